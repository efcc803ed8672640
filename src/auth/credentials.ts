/**
 * Pulls the presented credential from `Authorization: Bearer <credential>` or
 * `X-Api-Key: <key>`. Returns undefined when neither is present.
 */
export function extractCredential(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1] ?? "";
  }
  const apiKey = headers.get("x-api-key");
  return apiKey === null ? undefined : apiKey.trim();
}

/** The caller's address as Cloudflare reports it (absent locally unless sent). */
export function clientIp(headers: Headers): string | null {
  return headers.get("cf-connecting-ip");
}
