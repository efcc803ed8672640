import { DomainError } from "../lib/errors";
import { jsonTooDeep } from "../lib/json";
import { bodyTooLarge, readLimited } from "../lib/read-limited";

/** A source accepts bodies up to 256 KiB, counted while they stream in. */
export const MAX_INTAKE_BYTES = 256 * 1024;

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
const FORM_TYPE = "application/x-www-form-urlencoded";

export type ParsedBody = {
  bytes: Uint8Array;
  /** JSON as is; a form as an object of strings (a repeated name keeps its last value). */
  trigger: unknown;
  /** The form's pairs in order (Twilio signs them all), null for JSON. */
  form: [string, string][] | null;
};

export async function readIntakeBody(stream: ReadableStream<Uint8Array> | null, declaredLength: string | undefined): Promise<Uint8Array> {
  const declared = Number(declaredLength);
  if (Number.isFinite(declared) && declared > MAX_INTAKE_BYTES) throw bodyTooLarge(MAX_INTAKE_BYTES);
  return stream ? readLimited(stream, MAX_INTAKE_BYTES) : new Uint8Array(0);
}

/** JSON (`application/json`, `*+json`) or a form; anything else is a 415, a broken body a 400. */
export function parseIntakeBody(bytes: Uint8Array, contentType: string | null): ParsedBody {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const text = new TextDecoder().decode(bytes);
  if (mediaType === FORM_TYPE) {
    const form = [...new URLSearchParams(text)];
    return { bytes, trigger: Object.fromEntries(form), form };
  }
  if (!JSON_TYPE.test(mediaType)) {
    throw new DomainError(
      "unsupported_media_type",
      "A source accepts application/json (or +json) and application/x-www-form-urlencoded bodies",
    );
  }
  if (jsonTooDeep(text)) throw new DomainError("too_deep", "The body nests deeper than 64 levels");
  try {
    return { bytes, trigger: JSON.parse(text), form: null };
  } catch (e) {
    throw new DomainError("malformed_json", `The body is not valid JSON: ${(e as Error).message}`);
  }
}
