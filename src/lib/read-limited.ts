import { DomainError } from "./errors";

export function bodyTooLarge(limit: number): DomainError {
  return new DomainError("payload_too_large", `Request body must be at most ${limit} bytes`);
}

/**
 * Reads a stream into memory, failing (413) as soon as it passes `limit`
 * bytes, whatever a Content-Length header claimed.
 */
export async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
