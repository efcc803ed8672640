// `node bench/profile.mjs [e|x|h|w]`: where the Worker's JavaScript time goes under load, for one
// scenario of bench/gateway.mjs (e: gateway exact, x: approximate, h: /health, w: /v1/whoami).
// It drives the load while the V8 sampling profiler of wrangler dev's inspector runs, then prints
// the functions with the most self time and the time by module, and saves the .cpuprofile (open it
// in Chrome DevTools). JavaScript only: the runtime's own work (sockets, the Durable Object's call,
// its storage) shows as "(program)" or not at all. Settings: BENCH_CONCURRENCY (16),
// BENCH_SECONDS (8), PROFILE_OUT (a file; default in the temporary directory).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGateway, startOrigin } from "./gateway-setup.mjs";
import { measure, printTable } from "./load.mjs";

const scenario = process.argv[2] ?? "e";
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 8);

/** A Chrome DevTools Protocol session on wrangler dev's inspector (the Worker's isolate). */
async function inspect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // The inspector accepts local pages only: say so (undici lets a WebSocket carry headers).
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Self time per function and per module, from a V8 .cpuprofile. */
function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const modules = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const fn = `${functionName || "(anonymous)"} ${path.basename(url || "")}:${lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const mod = url ? path.basename(url) : functionName;
    modules.set(mod, (modules.get(mod) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === "(idle)").reduce((a, [, us]) => a + us, 0);
  return { total, idle, functions: top(fns, 30), modules: top(modules, 12) };
}

const origin = await startOrigin();
const gateway = await startGateway(origin.url);
const { server, exactKey, approximateKey } = gateway;
const runs = {
  e: () => fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${exactKey}` } }),
  x: () => fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${approximateKey}` } }),
  h: () => fetch(`${server.url}/health`),
  w: () => fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${exactKey}` } }),
};
try {
  if (!runs[scenario]) throw new Error(`unknown scenario ${scenario}; have: ${Object.keys(runs).join(", ")}`);
  const inspector = await inspect(server.inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
  await inspector.send("Profiler.start");
  const row = await measure(scenario, runs[scenario], { concurrency, seconds });
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();
  printTable([row]);
  const out = process.env.PROFILE_OUT ?? path.join(tmpdir(), `hookgate-${scenario}-${Date.now()}.cpuprofile`);
  writeFileSync(out, JSON.stringify(profile));
  const { total, idle, functions, modules } = summarize(profile);
  const busyMs = (total - idle) / 1000 / row.requests;
  console.log(`\nsampled ${(total / 1e6).toFixed(1)} s of the isolate's time (${out})`);
  console.log(`isolate busy ${busyMs.toFixed(2)} ms per request (idle ${((100 * idle) / total).toFixed(0)} %)\n\nby module:`);
  for (const line of modules) console.log(line);
  console.log("\nby function (self time):");
  for (const line of functions) console.log(line);
} finally {
  await gateway.stop();
  origin.close();
}
