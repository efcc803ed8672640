// The benchmarks' bare forwarder: a Worker that only forwards every request to ORIGIN (same method,
// path, query, headers and streamed body) and streams the answer back. The physical limit of any
// gateway on the same machine: bench/gateway.mjs compares the gateway with it in the same run.
// With LOG=1 it also writes one JSON line per request, shaped like Hookgate's request log line: what
// that line costs under wrangler dev (a pipe from workerd through wrangler) is then measured apart.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    if (env.LOG === "1") {
      const line = { requestId: crypto.randomUUID(), tenantId: null, credentialId: null, method: request.method };
      console.log(JSON.stringify({ ...line, route: "forward", status: 200, code: null, durationMs: 0 }));
    }
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return fetch(`${env.ORIGIN}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: hasBody ? request.body : null,
      redirect: "manual",
    });
  },
};
