import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const CLIENT = path.join(import.meta.dirname, "../../src/dashboard/client");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

describe("the dashboard's page talks to the API through hookgate/client", () => {
  it("only src/dashboard/client/api.ts calls fetch, and it builds its client with createHookgateClient", () => {
    const callers = sources(CLIENT).filter((f) => /\bfetch\(/.test(readFileSync(f, "utf8")));
    expect(callers.map((f) => path.relative(CLIENT, f))).toEqual(["api.ts"]);
    expect(readFileSync(path.join(CLIENT, "api.ts"), "utf8")).toMatch(/createHookgateClient\(/);
  });
});
