/**
 * The source tree's import graph and the architecture rules checked on it. Pure: everything takes
 * a map of repository-relative path -> source text, so the rules are tested on small fixtures as
 * well as on src/.
 */
import { posix } from "node:path";
import ts from "typescript";

export type Sources = Record<string, string>;
/** One import: its specifier as written, and the file it resolves to (null: a package, or a non-code asset). */
export type Import = { spec: string; target: string | null };
export type Graph = { files: string[]; imports: Map<string, Import[]>; unresolved: string[] };

/** Every module specifier a file names: imports and `export … from` (type-only too), side-effect imports, `import("…")` anywhere. */
export function specifiersOf(path: string, text: string): string[] {
  const kind = path.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
  const out: string[] = [];
  const literal = (n: ts.Node | undefined) => {
    if (n && ts.isStringLiteralLike(n)) out.push(n.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) literal(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

const CANDIDATES = ["", ".ts", ".tsx", ".d.ts", "/index.ts", "/index.tsx"];
const ASSET = /\.(json|css|txt|svg|html)$/;

/** A relative specifier's file among `files` (`./x.js` is `./x.ts`, as TypeScript resolves it); undefined when none is. */
export function resolveSpecifier(from: string, spec: string, files: ReadonlySet<string>): string | null | undefined {
  if (!spec.startsWith(".")) return null;
  if (ASSET.test(spec)) return null;
  const base = posix.join(posix.dirname(from), spec).replace(/\.js$/, "");
  for (const ext of CANDIDATES) if (files.has(base + ext)) return base + ext;
  return undefined;
}

export function buildGraph(sources: Sources): Graph {
  const files = Object.keys(sources).sort();
  const known = new Set(files);
  const imports = new Map<string, Import[]>();
  const unresolved: string[] = [];
  for (const f of files) {
    const list: Import[] = [];
    for (const spec of new Set(specifiersOf(f, sources[f] ?? ""))) {
      const target = resolveSpecifier(f, spec, known);
      if (target === undefined) unresolved.push(`${f} imports ${spec}, which is no file`);
      else list.push({ spec, target });
    }
    imports.set(f, list);
  }
  return { files, imports, unresolved };
}

export const edge = (from: string, to: string) => `${from} -> ${to}`;

/** The file-to-file edges, each as `from -> to`. */
export function edgesOf(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, list] of graph.imports) for (const i of list) if (i.target) out.push(edge(from, i.target));
  return out;
}

/** Strongly connected sets of more than one file (or a file importing itself), each sorted, leaving out `ignored` edges. */
export function cyclesOf(graph: Graph, ignored: ReadonlySet<string> = new Set()): string[][] {
  const next = (v: string) => (graph.imports.get(v) ?? []).flatMap((i) => (i.target && !ignored.has(edge(v, i.target)) ? [i.target] : []));
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      set.push(w);
    } while (w !== v);
    if (set.length > 1 || next(v).includes(v)) out.push(set.sort());
  };
  for (const f of graph.files) if (!index.has(f)) visit(f);
  return out;
}

/** Hono (and the HTTP layer) belongs to these; the domain below them knows nothing of it. */
const HTTP_SIDE = [/^src\/routes\//, /^src\/http\//, /^src\/dashboard\//, /^src\/app\.ts$/, /^src\/index\.ts$/];
const HTTP_MODULE = (i: Import) => /^(hono|@hono\/)/.test(i.spec) || (i.target !== null && /^src\/(http|routes)\//.test(i.target));
const DELIVERY_MAY_NOT = /^src\/(events|webhooks|listen|replays)\//;
/** The facts every side declares once (server, dashboard, CLI): they import nothing but each other. */
const SHARED = /^src\/common\//;
/** The dashboard's page and the developer tools run outside the Worker: within src/ they reach only these. */
const CLIENT_SIDE = /^src\/(tools|dashboard\/client)\//;
const CLIENT_MAY = /^src\/(tools|dashboard\/client|common)\/|^src\/lib\/read-capped\.ts$/;
const MAX_LINES = 300;

/** Every breach of the layering rules, each as `rule: from -> to` or `rule: file (…)`. */
export function ruleViolations(sources: Sources, graph: Graph = buildGraph(sources)): string[] {
  const out: string[] = [];
  const objectClasses = graph.files.filter((f) => /\bextends\s+DurableObject\b/.test(sources[f] ?? ""));
  for (const [from, list] of graph.imports) {
    for (const i of list) {
      const to = i.target ?? i.spec;
      if (!HTTP_SIDE.some((r) => r.test(from)) && HTTP_MODULE(i)) out.push(`http outside the HTTP layer: ${edge(from, to)}`);
      if (from.startsWith("src/delivery/") && i.target && DELIVERY_MAY_NOT.test(i.target))
        out.push(`delivery above its layer: ${edge(from, to)}`);
      if (SHARED.test(from) && !(i.target && SHARED.test(i.target))) out.push(`shared beyond src/common: ${edge(from, to)}`);
      if (CLIENT_SIDE.test(from) && i.target && !CLIENT_MAY.test(i.target)) out.push(`client reaches the server: ${edge(from, to)}`);
      if (from !== "src/index.ts" && i.target && objectClasses.includes(i.target))
        out.push(`object class outside src/index.ts: ${edge(from, to)}`);
    }
  }
  for (const f of graph.files) {
    const text = sources[f] ?? "";
    if (text.startsWith("// Generated")) continue;
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES) out.push(`over ${MAX_LINES} lines: ${f} (${lines})`);
  }
  return out;
}

/**
 * What the tree breaks beyond `known`, and which `known` entries no longer apply (so the list
 * only shrinks). `known.cycleEdges` are left out of the graph; what remains must have no cycle,
 * and each of them must still exist and close a cycle.
 */
export function check(sources: Sources, known: { cycleEdges: readonly string[]; violations: readonly string[] }) {
  const graph = buildGraph(sources);
  const edges = new Set(edgesOf(graph));
  const ignored = new Set(known.cycleEdges);
  const problems = [...graph.unresolved];
  for (const set of cyclesOf(graph, ignored)) problems.push(`import cycle: ${set.join(", ")}`);
  const current = ruleViolations(sources, graph);
  for (const v of current) if (!known.violations.includes(v)) problems.push(v);
  // An edge closes a cycle when both its ends are in one strongly connected set of the whole graph.
  const cycles = cyclesOf(graph);
  const closes = (from: string, to: string) => cycles.some((set) => set.includes(from) && set.includes(to));
  const stale: string[] = [];
  for (const e of known.cycleEdges) {
    const [from, to] = e.split(" -> ") as [string, string];
    if (!edges.has(e) || !closes(from, to)) stale.push(`no longer closes a cycle: ${e}`);
  }
  for (const v of known.violations) if (!current.includes(v)) stale.push(`no longer broken: ${v}`);
  return { problems, stale };
}
