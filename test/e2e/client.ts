import { inject } from "vitest";

/** A thin customer-side client: plain fetch against the wrangler dev instance. */
export const baseUrl = () => inject("baseUrl");
export const adminToken = () => inject("adminToken");

export async function api(
  method: string,
  path: string,
  opts: { key?: string; admin?: boolean; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.admin) headers.authorization = `Bearer ${adminToken()}`;
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl()}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function createTenant(name = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`) {
  const res = await api("POST", "/admin/tenants", { admin: true, body: { name } });
  if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { tenant: { id: string }; key: { id: string; key: string } };
}
