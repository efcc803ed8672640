import { newId } from "../../lib/crypto";
import { buildDeliveryRequest, type DeliveryBrand, type EndpointSettings } from "./request";
import { type SendResult, sendWebhook } from "./send";

/**
 * One signed `webhook.verification` POST to `url`, as `endpoint` would be sent (with the operator's
 * `brand` and `productName`); the endpoint's answer.
 */
export async function sendVerification(input: {
  url: string;
  endpoint: EndpointSettings;
  secrets: string[];
  timeoutMs: number;
  webhookId: string | null;
  brand?: DeliveryBrand;
  productName?: string;
}): Promise<SendResult> {
  const request = await buildDeliveryRequest({
    endpoint: input.endpoint,
    event: {
      id: newId("evt"),
      type: "webhook.verification",
      createdAt: new Date(),
      data: {
        webhookId: input.webhookId,
        message: `${input.productName ?? "Hookgate"} is verifying this endpoint; answer with any 2xx.`,
      },
    },
    attempt: 1,
    secrets: input.secrets,
    ...(input.brand && { brand: input.brand }),
  });
  return sendWebhook(input.url, request, input.timeoutMs);
}
