import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraph, check, cyclesOf, edgesOf, ruleViolations, type Sources, specifiersOf } from "./import-graph";

/**
 * What src/ still breaks today, entry by exact entry, so the rules hold for everything else.
 * Remove an entry when you fix it (the test fails while a fixed entry stays listed); never add one.
 * `cycleEdges`: imports left out of the cycle check; without them src/ has no import cycle.
 */
const KNOWN_TODAY = {
  cycleEdges: [],
  violations: [],
} as const;

const ROOT = join(import.meta.dirname, "..", "..");

function readTree(dir: string, out: Sources = {}): Sources {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) readTree(path, out);
    else if (/\.tsx?$/.test(name)) out[relative(ROOT, path).split(sep).join("/")] = readFileSync(path, "utf8");
  }
  return out;
}

const lines = (n: number) => "export const x = 1;\n".repeat(n);
const OBJECT = 'import { DurableObject } from "cloudflare:workers";\nexport class Shard extends DurableObject {}\n';
const none = { cycleEdges: [], violations: [] };

describe("the import graph (fixtures)", () => {
  it("finds every kind of module reference, and none in comments or strings", () => {
    const text = [
      'import a from "./a";',
      'import type { B } from "./b";',
      'export * from "./c";',
      'export { type D } from "./d";',
      'import "./e";',
      'type F = import("./f").F;',
      'const g = () => import("./g");',
      'import h = require("./h");',
      '// import z from "./comment";',
      '/* export * from "./block"; */',
      "const s = \"import y from './string'\";",
    ].join("\n");
    expect(specifiersOf("src/x.ts", text)).toEqual(["./a", "./b", "./c", "./d", "./e", "./f", "./g", "./h"]);
    expect(specifiersOf("src/x.tsx", 'import { K } from "../k";\nexport const V = () => <div>{"import"}</div>;')).toEqual(["../k"]);
  });

  it("resolves .js, .tsx, .d.ts and index files, and names an import that resolves to nothing", () => {
    const g = buildGraph({
      "src/a.ts":
        'import "./b.js";\nimport "./c";\nimport "./dir";\nimport type { S } from "./schema.js";\nimport "hono";\nimport "./gone";',
      "src/b.ts": "",
      "src/c.tsx": "",
      "src/dir/index.ts": "",
      "src/schema.d.ts": "",
    });
    expect(edgesOf(g)).toEqual([
      "src/a.ts -> src/b.ts",
      "src/a.ts -> src/c.tsx",
      "src/a.ts -> src/dir/index.ts",
      "src/a.ts -> src/schema.d.ts",
    ]);
    expect(g.unresolved).toEqual(["src/a.ts imports ./gone, which is no file"]);
  });

  it("finds cycles, type-only and through import() types included", () => {
    expect(cyclesOf(buildGraph({ "src/a.ts": 'import "./b";', "src/b.ts": 'import type { A } from "./a";' }))).toEqual([
      ["src/a.ts", "src/b.ts"],
    ]);
    const three = { "src/a.ts": 'export * from "./b";', "src/b.ts": 'import "./c";', "src/c.ts": 'let a: import("./a").A;' };
    expect(cyclesOf(buildGraph(three))).toEqual([["src/a.ts", "src/b.ts", "src/c.ts"]]);
    expect(cyclesOf(buildGraph({ "src/a.ts": 'import "./a";' }))).toEqual([["src/a.ts"]]);
    expect(cyclesOf(buildGraph({ "src/a.ts": 'import "./b";', "src/b.ts": 'import "./c";', "src/c.ts": "" }))).toEqual([]);
    expect(check(three, none).problems).toEqual(["import cycle: src/a.ts, src/b.ts, src/c.ts"]);
  });

  it("keeps hono and the HTTP layer out of the domain", () => {
    const v = ruleViolations({
      "src/lib/a.ts": 'import type { Context } from "hono";',
      "src/auth/b.ts": 'import { X } from "@hono/zod-openapi";\nimport { p } from "../http/problem";',
      "src/events/c.ts": 'import { r } from "../routes/keys";',
      "src/http/problem.ts": 'import { HTTPException } from "hono/http-exception";\nimport { k } from "../routes/keys";',
      "src/routes/keys.ts": 'import { z } from "@hono/zod-openapi";',
      "src/dashboard/d.ts": 'import { Hono } from "hono";',
      "src/app.ts": 'import { Hono } from "hono";\nimport "./http/problem";',
    });
    expect(v).toEqual([
      "http outside the HTTP layer: src/auth/b.ts -> @hono/zod-openapi",
      "http outside the HTTP layer: src/auth/b.ts -> src/http/problem.ts",
      "http outside the HTTP layer: src/events/c.ts -> src/routes/keys.ts",
      "http outside the HTTP layer: src/lib/a.ts -> hono",
    ]);
  });

  it("keeps delivery below events, webhooks, listen and replays", () => {
    const files = ["events/e", "webhooks/w", "listen/l", "replays/r", "db/d"].map((f) => `src/${f}.ts`);
    const sources: Sources = { "src/delivery/x.ts": files.map((f) => `import "../${f.slice(4, -3)}";`).join("\n") };
    for (const f of files) sources[f] = 'import "../delivery/x";';
    expect(ruleViolations(sources)).toEqual(files.slice(0, 4).map((f) => `delivery above its layer: src/delivery/x.ts -> ${f}`));
  });

  it("keeps src/common free of imports, and the dashboard and tools off the server's modules", () => {
    const v = ruleViolations({
      "src/common/a.ts": 'import type { B } from "./b";\nimport "../lib/x";\nimport { z } from "zod";',
      "src/common/b.ts": "",
      "src/lib/x.ts": "",
      "src/lib/read-capped.ts": "",
      "src/db/schema.ts": 'export * from "../common/a";',
      "src/tools/cli/c.ts": 'import "../../common/a";\nimport "../../lib/read-capped";\nimport "../../lib/x";\nimport "node:fs";',
      "src/dashboard/client/d.tsx":
        'import "../../tools/cli/c";\nimport "../../common/b";\nimport "../../db/schema";\nimport "hono/jsx/dom";',
    });
    expect(v).toEqual([
      "shared beyond src/common: src/common/a.ts -> src/lib/x.ts",
      "shared beyond src/common: src/common/a.ts -> zod",
      "client reaches the server: src/dashboard/client/d.tsx -> src/db/schema.ts",
      "client reaches the server: src/tools/cli/c.ts -> src/lib/x.ts",
    ]);
  });

  it("lets only src/index.ts import a module that defines a Durable Object class", () => {
    const v = ruleViolations({
      "src/data/shard.ts": OBJECT,
      "src/data/plain.ts": "export class Plain {}\n",
      "src/index.ts": 'export { Shard } from "./data/shard";',
      "src/env.ts": 'import type { Shard } from "./data/shard";\nimport "./data/plain";',
    });
    expect(v).toEqual(["object class outside src/index.ts: src/env.ts -> src/data/shard.ts"]);
  });

  it("limits hand-written files to 300 lines; generated ones are exempt", () => {
    const v = ruleViolations({
      "src/ok.ts": lines(300),
      "src/long.ts": lines(301),
      "src/long.tsx": lines(302).trimEnd(),
      "src/schema.d.ts": `// Generated by a script. Do not edit.\n${lines(400)}`,
    });
    expect(v).toEqual(["over 300 lines: src/long.ts (301)", "over 300 lines: src/long.tsx (302)"]);
  });

  it("accepts only the known entries, fails a new one, and names entries that no longer apply", () => {
    const sources = {
      "src/env.ts": 'import type { Shard } from "./data/shard";',
      "src/data/shard.ts": `${OBJECT}import type { Env } from "../env";`,
      "src/lib/x.ts": 'import "hono";',
    };
    const known = {
      cycleEdges: ["src/env.ts -> src/data/shard.ts", "src/lib/x.ts -> src/env.ts"],
      violations: ["object class outside src/index.ts: src/env.ts -> src/data/shard.ts", "over 300 lines: src/env.ts (400)"],
    };
    expect(check(sources, known)).toEqual({
      problems: ["http outside the HTTP layer: src/lib/x.ts -> hono"],
      stale: ["no longer closes a cycle: src/lib/x.ts -> src/env.ts", "no longer broken: over 300 lines: src/env.ts (400)"],
    });
    expect(check(sources, none).problems).toEqual([
      "import cycle: src/data/shard.ts, src/env.ts",
      "object class outside src/index.ts: src/env.ts -> src/data/shard.ts",
      "http outside the HTTP layer: src/lib/x.ts -> hono",
    ]);
  });
});

describe("src/", () => {
  const sources = readTree(join(ROOT, "src"));

  it("is read whole: every file, every object class, the imports between them", () => {
    const graph = buildGraph(sources);
    expect(graph.files.length).toBeGreaterThan(150);
    expect(edgesOf(graph).length).toBeGreaterThan(500);
    expect(graph.files.filter((f) => /\bextends\s+DurableObject\b/.test(sources[f] ?? ""))).toEqual(
      expect.arrayContaining(["src/data/data-shard.ts", "src/delivery/governor/endpoint-governor.ts", "src/replays/lane.ts"]),
    );
  });

  it("has no import cycle, and keeps its layers, beyond what KNOWN_TODAY lists", () => {
    const { problems, stale } = check(sources, KNOWN_TODAY);
    expect(problems, "new violations (fix them; do not add them to KNOWN_TODAY)").toEqual([]);
    expect(stale, "fixed: remove these from KNOWN_TODAY").toEqual([]);
  });
});
