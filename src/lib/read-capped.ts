/**
 * The first `maxBytes` of a response as text, the rest never read (a
 * receiver's answer is logged, not stored whole); null when it has no body.
 * When cut, a character the cut splits in two is dropped: its U+FFFD would
 * take the text past the cap. Web APIs only: the Worker's delivery log and
 * the `hookgate listen` CLI both use it.
 */
export async function readCapped(res: Response, maxBytes: number, signal?: AbortSignal): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes && !signal?.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, all.length - offset);
    all.set(chunk.subarray(0, take), offset);
    offset += take;
    if (offset >= all.length) break;
  }
  return new TextDecoder().decode(all, { stream: size >= maxBytes });
}
