import { describe, expect, it } from "vitest";
import { renderMapping, renderString, templateProblems } from "../../src/sources/mapping";

const ctx = {
  trigger: {
    action: "opened",
    number: 7,
    draft: false,
    labels: [{ name: "bug" }, { name: "p1" }],
    repository: { full_name: "acme/api", owner: { id: 9 } },
    nothing: null,
  },
  headers: new Headers({ "X-GitHub-Event": "pull_request", "x-delivery": "d-1" }),
  query: new URLSearchParams("env=prod&n=3"),
};

describe("renderString", () => {
  it.each([
    ["{{trigger.action}}", "opened"],
    ["{{trigger.number}}", 7],
    ["{{trigger.draft}}", false],
    ["{{trigger.nothing}}", null],
    ["{{trigger.labels}}", [{ name: "bug" }, { name: "p1" }]],
    ["{{trigger.labels.1.name}}", "p1"],
    ["{{trigger.repository.owner}}", { id: 9 }],
    ["{{ trigger.action }}", "opened"],
    ["{{headers.x-github-event}}", "pull_request"],
    ["{{headers.X-GitHub-Event}}", "pull_request"],
    ["{{query.env}}", "prod"],
    ["{{query.n}}", "3"],
    ["{{trigger.missing}}", null],
    ["{{trigger.labels.9.name}}", null],
    ["{{trigger.labels.x}}", null],
    ["{{trigger.action.length}}", null],
    ["{{headers.absent}}", null],
    ["{{query.absent}}", null],
    ["{{trigger.__proto__}}", null],
    ["github.{{headers.x-github-event}}", "github.pull_request"],
    ["PR #{{trigger.number}} is {{trigger.action}}", "PR #7 is opened"],
    ["owner {{trigger.repository.owner}}", 'owner {"id":9}'],
    ["draft={{trigger.draft}} gone={{trigger.missing}}", "draft=false gone=null"],
    ["plain text", "plain text"],
    ["", ""],
  ])("%s → %j", (template, expected) => {
    expect(renderString(template, ctx)).toEqual(expected);
  });
});

describe("renderMapping", () => {
  it("renders strings at any depth and keeps keys and other values as written", () => {
    expect(
      renderMapping(
        {
          repo: "{{trigger.repository.full_name}}",
          n: "{{trigger.number}}",
          fixed: 1,
          list: ["{{trigger.labels.0.name}}", true],
          "{{k}}": "x",
        },
        ctx,
      ),
    ).toEqual({ repo: "acme/api", n: 7, fixed: 1, list: ["bug", true], "{{k}}": "x" });
    expect(renderMapping("{{trigger}}", ctx)).toEqual(ctx.trigger);
    expect(renderMapping(null, ctx)).toBeNull();
  });
});

describe("templateProblems", () => {
  it("names a bad placeholder with its path", () => {
    expect(templateProblems({ a: "{{body.x}}", b: ["ok {{trigger.y}}", "{{ headers }}", "{{}}"] }, "mapping").map((p) => p.path)).toEqual([
      "mapping.a",
      "mapping.b.2",
    ]);
    expect(templateProblems("github.{{headers.x-github-event}}", "eventType")).toEqual([]);
  });
});
