export const SECRETS: Record<"ADMIN_TOKEN" | "TOKEN_SIGNING_KEY" | "SECRETS_KEY" | "GATEWAY_SECRET", () => string>;
export function readResources(configPath: string): Promise<{
  worker: string | undefined;
  accountId: string | undefined;
  database: { binding: string; name: string; id: string | undefined };
  queues: string[];
}>;
export function setDatabaseId(text: string, binding: string, id: string): string;
