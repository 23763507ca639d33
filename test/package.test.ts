// What the package and its docs promise a user: `npm pack` ships the built library, its types,
// the device bundles and the bins and nothing else; the README's library example, run as it
// stands, prints the reply; the bundle sizes the docs quote are the sizes of dist/.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import ts from "typescript";
// @ts-expect-error: plain ESM JavaScript with JSDoc types
import { LIBRARY_BUDGET_BYTES } from "../../scripts/boards.mjs";
import { KEY_HEX } from "./helpers/server.js";

const PKG = JSON.parse(readFileSync("package.json", "utf8"));

describe("the package as npm packs it", function () {
  this.timeout(60000);
  let files: Array<{ path: string; mode: number }>;
  before(() => {
    const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8", timeout: 50000 });
    assert.equal(packed.status, 0, packed.stderr);
    files = JSON.parse(packed.stdout)[0].files;
  });

  it("holds build/ without tests or source maps, dist/, the types, README and package.json — nothing else", () => {
    const paths = files.map((f) => f.path);
    const stray = paths.filter(
      (p) =>
        !["package.json", "README.md", "LICENSE"].includes(p) &&
        !/^build\/(server|firmware|host-sim)\/.*\.(js|d\.ts)$/.test(p) &&
        !/^scripts\/[\w-]+\.(mjs|d\.mts|json)$/.test(p) &&
        !/^boards\/[\w-]+\.json$/.test(p) &&
        !/^dist\/[\w-]+\.js$/.test(p) &&
        !/^device\/[\w-]+\.d\.ts$/.test(p),
    );
    assert.deepEqual(stray, [], "files that are not the product");
    assert.ok(!paths.some((p) => p.startsWith("build/test/") || p.endsWith(".map") || (p.endsWith(".ts") && !p.endsWith(".d.ts"))));
    for (const needed of ["README.md", "build/server/index.js", "build/server/index.d.ts", "dist/lwstcp.js", "dist/lwstcp-v2.js", "dist/app-esp32.js"])
      assert.ok(paths.includes(needed), needed);
    // Every module the entry point reaches is shipped, with its types.
    const entry = PKG.exports["."];
    assert.ok(paths.includes(entry.default.replace(/^\.\//, "")) && paths.includes(entry.types.replace(/^\.\//, "")));
    for (const p of paths.filter((p) => p.startsWith("build/") && p.endsWith(".js"))) assert.ok(paths.includes(p.replace(/\.js$/, ".d.ts")), p + " has types");
  });

  it("ships every bin, executable and starting with a node shebang", () => {
    for (const [name, file] of Object.entries(PKG.bin as Record<string, string>)) {
      const entry = files.find((f) => f.path === file);
      assert.ok(entry, name + " → " + file + " in the package");
      assert.ok((entry.mode & 0o111) !== 0, file + " is executable (mode " + entry.mode.toString(8) + ")");
      assert.ok(readFileSync(file, "utf8").startsWith("#!/usr/bin/env node\n"), file + " starts with a shebang");
    }
  });
});

/** The first ```ts block after the heading. */
function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf("\n" + heading + "\n");
  assert.ok(at >= 0, "README has the section " + heading);
  const block = /```ts\n([\s\S]*?)```/.exec(markdown.slice(at));
  assert.ok(block, "a ts code block in " + heading);
  return block[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

describe("the README's library example", function () {
  this.timeout(60000);
  // Inside the package, so that `import … from "lwstcp"` resolves to this package's build.
  const dir = join("build", "test", "readme-example");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("type-checks against the package's types and, run as it stands, prints the reply", async () => {
    const port = await freePort();
    // The one change: a free port instead of 12345, which another process may hold.
    const source = codeBlockAfter(readFileSync("README.md", "utf8"), "## Desktop server and client").replaceAll("12345", String(port));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "example.ts");
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      types: ["node"],
      skipLibCheck: true,
    });
    const emitted = program.emit();
    const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    assert.deepEqual(problems, [], "the example compiles");
    const child = spawn(process.execPath, [join(dir, "example.js")], { env: { ...process.env, LWSTCP_KEY: KEY_HEX }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    const code = await new Promise((resolve) => child.once("close", resolve));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.match(out, /^you said hello$/m, out);
    assert.match(out, /^1 session\(s\) open; stats \{/m, out);
    assert.ok(!/no session/.test(out), out);
  });
});

describe("the types of lwstcp/rollup", () => {
  const dir = join("build", "test", "rollup-types");
  after(() => rmSync(dir, { recursive: true, force: true }));
  // No @types and no skipLibCheck: lwstcp/rollup's declarations are checked too, and it is fast.
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    types: [],
    noEmit: true,
  };
  /** Each source's problems, from one program over all of them (file name → source). */
  function problems(sources: Record<string, string>): Record<string, string[]> {
    mkdirSync(dir, { recursive: true });
    const files = Object.keys(sources).map((name) => join(dir, name));
    for (const [i, source] of Object.values(sources).entries()) writeFileSync(files[i], source);
    const program = ts.createProgram(files, options);
    const found: Record<string, string[]> = {};
    // Rollup's own declarations want a newer lib than a plain ES2022 project has: theirs, not ours.
    for (const d of ts.getPreEmitDiagnostics(program).filter((d) => !d.file?.fileName.includes("/node_modules/"))) {
      const where = d.file ? d.file.fileName.slice(d.file.fileName.lastIndexOf("/") + 1) : "(global)";
      (found[where] ??= []).push(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    }
    return found;
  }

  it("resolve through package.json exports to the declarations shipped with the plugin, which name its exports", async () => {
    const resolved = ts.resolveModuleName("lwstcp/rollup", join(process.cwd(), dir, "rollup.config.ts"), options, ts.sys).resolvedModule;
    assert.equal(resolved?.resolvedFileName, join(process.cwd(), PKG.exports["./rollup"].types));
    assert.ok(PKG.files.includes(PKG.exports["./rollup"].types.replace(/^\.\//, "")), "shipped");
    const runtime = Object.keys(await import(join(process.cwd(), PKG.exports["./rollup"].default))).sort();
    const declared = [...readFileSync(PKG.exports["./rollup"].types, "utf8").matchAll(/^export declare (?:const|class|function) (\w+)/gm)]
      .map((m) => m[1])
      .sort();
    assert.deepEqual(declared, runtime);
  });

  it("type-check a user's rollup.config.ts, and catch a wrong option", () => {
    const found = problems({
      "rollup.config.ts": `import type { OutputOptions, Plugin } from "rollup";
import { type BundleReport, ESPRUINO_OUTPUT, EspruinoCheckError, espruino } from "lwstcp/rollup";
const sizes: number[] = [];
const plugins: Plugin[] = espruino({ budget: 16384, report: (r: BundleReport) => sizes.push(r.bytes, r.jsVars) });
const output: OutputOptions = { ...ESPRUINO_OUTPUT, file: "dist/app.js" };
const failure: Error = new EspruinoCheckError("app.js", [{ code: "no-map", message: "Map", line: 1 }]);
export default { input: "src/app.ts", plugins, output, failure };
`,
      "wrong.ts": `import { espruino } from "lwstcp/rollup";\nexport default espruino({ budget: "16 KB" });\n`,
    });
    assert.deepEqual(found, { "wrong.ts": ["Type 'string' is not assignable to type 'number'."] });
  });
});

describe("the sizes the docs quote", () => {
  // Each doc sentence that names a bundle and a size: "`dist/x.js` … 14,319 bytes" or "… about 11.1 KB".
  const QUOTE = /`dist\/([\w-]+\.js)`(?:[^`.]|`[^`]*`)*?(?:(\d{1,3}(?:,\d{3})+|\d+) bytes|about (\d+(?:\.\d)?) KB)/g;
  const DOCS = ["README.md", "firmware/README.md", "docs/PERFORMANCE.md"];
  /** How far a quote may be from the file: rounding, and a little drift between doc updates. */
  const TOLERANCE = 0.03;

  it("bundle sizes are within 3 % of dist/", () => {
    const quotes: string[] = [];
    for (const doc of DOCS) {
      const text = readFileSync(doc, "utf8").replace(/\n\s*/g, " ");
      for (const m of text.matchAll(QUOTE)) {
        const actual = readFileSync(join("dist", m[1])).length;
        const quoted = m[2] ? Number(m[2].replaceAll(",", "")) : Number(m[3]) * 1024;
        quotes.push(doc + ": " + m[1]);
        assert.ok(Math.abs(quoted - actual) <= actual * TOLERANCE, `${doc} says ${m[0].slice(-40)} for dist/${m[1]}, which is ${actual} bytes`);
      }
    }
    // The quotes this test exists for: if a rewrite drops them, it should say so here.
    for (const expected of ["README.md: lwstcp-v2.js", "firmware/README.md: lwstcp.js", "firmware/README.md: lwstcp-v2.js", "docs/PERFORMANCE.md: lwstcp.js"])
      assert.ok(quotes.includes(expected), expected + " among " + quotes.join(", "));
  });

  it("the size gate they quote is the build's", () => {
    for (const doc of DOCS) {
      const text = readFileSync(doc, "utf8").replace(/\n\s*/g, " ");
      for (const m of text.matchAll(/(\d+) KB \((\d{1,3}(?:,\d{3})+) bytes/g))
        assert.equal(Number(m[1]) * 1024, Number(m[2].replaceAll(",", "")), doc + ": " + m[0]);
      // The gate as it is now (not a past measurement "against the 14 KB budget").
      for (const m of text.matchAll(/library's (\d+) KB budget|(\d+) KB gate|build fails above (\d+) KB/g))
        assert.equal(Number(m[1] || m[2] || m[3]) * 1024, LIBRARY_BUDGET_BYTES, doc + ": " + m[0] + " (scripts/boards.mjs says " + LIBRARY_BUDGET_BYTES + ")");
    }
  });
});
