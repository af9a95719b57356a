// How tidy src/ is, measured the same way each time: import circles (type imports included),
// the longest functions, the longest files and the fullest folders. test/house.test.ts holds the
// limits; `node scripts/house.mjs` prints the figures.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

function lineCount(text) {
  return text.split("\n").length - 1;
}

function parse(file, text) {
  // No parent links and no JSDoc: what is measured needs neither, and parsing is most of the cost.
  const options = {
    languageVersion: ts.ScriptTarget.ES2022,
    jsDocParsingMode: ts.JSDocParsingMode.ParseNone,
  };
  return ts.createSourceFile(file, text, options, false);
}

/**
 * Every relative module a file names: imports and re-exports (type-only too), import() calls and
 * import("...") types, found by TypeScript's own import scanner (far cheaper than a parse).
 */
function specifiers(text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith("."));
}

function resolveModule(from, spec, known) {
  const base = resolve(dirname(from), spec.replace(/\.js$/, ""));
  for (const c of [`${base}.ts`, join(base, "index.ts")]) if (known.has(c)) return c;
  return undefined;
}

/** The import circles among `files`, each as a list of paths relative to `root`. */
function cycles(root, texts) {
  const known = new Set(texts.keys());
  const edges = new Map();
  for (const [file, text] of texts) {
    const to = specifiers(text)
      .map((s) => resolveModule(file, s, known))
      .filter((f) => f !== undefined);
    edges.set(file, [...new Set(to)]);
  }
  // Tarjan's strongly connected components: every component of more than one file is a circle.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const part = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        part.push(relative(root, w));
      } while (w !== v);
      if (part.length > 1 || (edges.get(v) ?? []).includes(v)) out.push(part.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) strong(v);
  return out;
}

function nameOf(node, parent) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return "constructor";
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return "(anonymous)";
}

/** Every function's span in lines, from its first line to its last, in files longer than `min`. */
function functions(root, texts, min) {
  const out = [];
  for (const [file, text] of texts) {
    // A file no longer than `min` lines has no function longer than that: it need not be parsed.
    if (lineCount(text) <= min) continue;
    const source = parse(file, text);
    // Parents are passed down: the sources are parsed without parent links, which is much faster.
    const visit = (node, parent) => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.end).line;
        out.push({ file: relative(root, file), name: nameOf(node, parent), lines: end - start + 1 });
      }
      ts.forEachChild(node, (child) => visit(child, node));
    };
    visit(source, undefined);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

/**
 * The measures of `<root>/src`. Functions are listed from files longer than `minFunctionLines`
 * only (default 0: every file), which is all a check of a limit needs.
 */
export function measureHouse(root, minFunctionLines = 0) {
  const src = join(root, "src");
  const texts = new Map(files(src).map((f) => [f, readFileSync(f, "utf8")]));
  const fileLines = [...texts]
    .map(([f, text]) => ({ file: relative(root, f), lines: lineCount(text) }))
    .sort((a, b) => b.lines - a.lines);
  const counts = new Map();
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const dir = relative(root, e.parentPath ?? e.path);
    counts.set(dir, (counts.get(dir) ?? 0) + 1);
  }
  const folders = [...counts]
    .map(([dir, count]) => ({ dir, files: count }))
    .sort((a, b) => b.files - a.files);
  return {
    cycles: cycles(root, texts),
    functions: functions(root, texts, minFunctionLines),
    files: fileLines,
    folders,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
  const m = measureHouse(root);
  const top = (rows, f) =>
    rows
      .slice(0, 5)
      .map((r) => `  ${f(r)}`)
      .join("\n");
  console.log(`longest functions:\n${top(m.functions, (r) => `${r.lines}  ${r.file} ${r.name}`)}`);
  console.log(`longest files:\n${top(m.files, (r) => `${r.lines}  ${r.file}`)}`);
  console.log(`fullest folders:\n${top(m.folders, (r) => `${r.files}  ${r.dir}`)}`);
  console.log(`import circles: ${m.cycles.length}`);
  for (const c of m.cycles) console.log(`  ${c.join(" <-> ")}`);
}
