// The benchmarks' bare forwarder: a Worker that only forwards every request to ORIGIN (same method,
// path, query, headers and streamed body) and streams the answer back. The physical limit of any
// gateway on the same machine: bench/gateway.mjs compares the gateway with it in the same run.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return fetch(`${env.ORIGIN}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: hasBody ? request.body : null,
      redirect: "manual",
    });
  },
};
