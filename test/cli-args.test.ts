// The command-line layer every tool shares (server/cli/args.ts): strict parsing against a
// tool's spec, ports, keys from every source with one message, --only lists, the help text,
// and runTool's exit codes, one-line errors and quiet closed pipes (a tiny tool spawned as a
// real process).

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  helpText,
  KEY_FLAG_SPECS,
  keyFromFlags,
  listFlag,
  numberFlag,
  packageVersion,
  parseTool,
  portFlag,
  type ToolSpec,
  UsageError,
} from "../server/cli/args.js";
import { KEY_HEX } from "./helpers/server.js";

const SPEC: ToolSpec = {
  program: "lwstcp-demo",
  summary: "A tool for the tests.",
  usage: "--port P [--quiet]",
  flags: [
    { name: "port", value: "PORT", help: "TCP port", default: 12345 },
    { name: "only", value: "A,B", help: "which parts" },
    { name: "quiet", help: "say less" },
    ...KEY_FLAG_SPECS,
  ],
  examples: ["lwstcp-demo --port 12345 --quiet"],
};

const usage = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, message);
    return true;
  });

describe("the shared command-line layer", () => {
  it("parses a tool's flags strictly: both spellings, switches, and every kind of mistake", () => {
    assert.deepEqual(
      [...parseTool(SPEC, ["--port", "1", "--only=a,b", "--quiet"])],
      [
        ["port", "1"],
        ["only", "a,b"],
        ["quiet", ""],
      ],
    );
    usage(() => parseTool(SPEC, ["--prot", "1"]), /^unknown flag --prot \(did you mean --port\?\)$/);
    usage(() => parseTool(SPEC, ["--colour", "red"]), /^unknown flag --colour$/);
    usage(() => parseTool(SPEC, ["--port"]), /^--port needs a value$/);
    usage(() => parseTool(SPEC, ["--port", "--quiet"]), /^--port needs a value$/);
    usage(() => parseTool(SPEC, ["--port", "1", "--port", "2"]), /--port given more than once/);
    usage(() => parseTool(SPEC, ["--port", "1", "stray"]), /unexpected argument 'stray'/);
    usage(() => parseTool(SPEC, ["-p", "1"]), /unexpected argument '-p'/);
    usage(() => parseTool(SPEC, ["--quiet=yes"]), /--quiet takes no value/);
  });

  it("reads ports: 1..65535, 0 only where allowed, the fallback when absent", () => {
    const flags = (v: string) => new Map([["port", v]]);
    assert.equal(portFlag(flags("8080"), "port"), 8080);
    assert.equal(portFlag(flags("0"), "port", { allowZero: true }), 0);
    assert.equal(portFlag(new Map(), "port", { fallback: 12345 }), 12345);
    assert.equal(portFlag(new Map(), "port"), undefined);
    usage(() => portFlag(flags("abc"), "port"), /^--port must be a port from 1 to 65535, got 'abc'$/);
    usage(() => portFlag(flags("70000"), "port"), /^--port must be a port from 1 to 65535, got '70000'$/);
    usage(() => portFlag(flags("0"), "port"), /^--port must be a port from 1 to 65535, got '0'$/);
    usage(() => portFlag(flags("-1"), "port", { allowZero: true }), /^--port must be a port from 0 to 65535 \(0: any free port\), got '-1'$/);
    usage(() => portFlag(flags("1.5"), "port"), /got '1.5'/);
    assert.equal(numberFlag(new Map([["d", "0.5"]]), "d", 0.1, 10), 0.5);
    usage(() => numberFlag(new Map([["d", "x"]]), "d", 0.1, 10), /^--d must be a number from 0.1 to 10, got 'x'$/);
  });

  it("reads a key from every source and answers a bad one with the same message", () => {
    const expected = keyFromFlags(new Map([["key", KEY_HEX]]), {});
    const words = Array.from(expected, (w) => "0x" + w.toString(16)).join(",");
    const dir = join(tmpdir(), "lwstcp-args-" + process.pid);
    const file = dir + "-key.txt";
    writeFileSync(file, words + "\n");
    const raw = dir + "-key.bin";
    writeFileSync(raw, Buffer.from(KEY_HEX, "hex"));
    assert.deepEqual(keyFromFlags(new Map([["key-words", words]]), {}), expected);
    assert.deepEqual(keyFromFlags(new Map([["key-file", file]]), {}), expected);
    assert.deepEqual(keyFromFlags(new Map([["key-file", raw]]), {}), expected);
    assert.deepEqual(keyFromFlags(new Map(), { LWSTCP_KEY: KEY_HEX }), expected);
    assert.deepEqual(keyFromFlags(new Map(), { LWSTCP_KEY: words }), expected);
    const shape = "must be 64 hex digits or 8 u32 words \\(0x… or decimal\\)";
    usage(() => keyFromFlags(new Map(), { LWSTCP_KEY: "zz" }), new RegExp("^LWSTCP_KEY " + shape + ", got 'zz'$"));
    usage(() => keyFromFlags(new Map([["key", "zz"]]), {}), new RegExp("^--key " + shape + ", got 'zz'$"));
    usage(() => keyFromFlags(new Map([["key-words", "1,2,3"]]), {}), new RegExp("^--key-words " + shape + ", got '1,2,3'$"));
    writeFileSync(file, "zz\n");
    usage(() => keyFromFlags(new Map([["key-file", file]]), {}), new RegExp("^--key-file " + file + " " + shape + ", got 'zz'$"));
    usage(() => keyFromFlags(new Map([["key-file", "/nonexistent/key"]]), {}), /^--key-file: cannot read \/nonexistent\/key: ENOENT$/);
    usage(() => keyFromFlags(new Map([["key-words", "1,2,3,4,5,6,7,0x100000000"]]), {}), /word 7 .*not a u32/);
    usage(() => keyFromFlags(new Map([["key-words", "1,2,3,4,5,6,7,4294967296"]]), {}), /word 7 .*larger than 0xFFFFFFFF/);
    usage(
      () =>
        keyFromFlags(
          new Map([
            ["key", KEY_HEX],
            ["key-words", words],
          ]),
          {},
        ),
      /give only one of/,
    );
    usage(() => keyFromFlags(new Map(), {}), /^no handshake key/);
  });

  it("parses --only lists against the known names", () => {
    const known = ["xtea", "server", "device"];
    assert.deepEqual(listFlag(new Map([["only", "server,xtea"]]), "only", known, "suite"), ["server", "xtea"]);
    assert.equal(listFlag(new Map(), "only", known, "suite"), undefined);
    usage(() => listFlag(new Map([["only", "xtea,nope"]]), "only", known, "suite"), /^--only: unknown suite 'nope' \(known: xtea, server, device\)$/);
    usage(() => listFlag(new Map([["only", ""]]), "only", known, "scenario"), /^--only: empty scenario name/);
  });

  it("writes help with every flag, its default and an example", () => {
    const text = helpText(SPEC);
    assert.match(text, /^usage: lwstcp-demo --port P \[--quiet\]\n/);
    for (const flag of ["--port PORT", "--only A,B", "--quiet", "--key HEX64", "--key-words W0,...,W7", "--key-file FILE", "--help", "--version"]) {
      assert.ok(text.includes("  " + flag + " "), flag + " in\n" + text);
    }
    assert.match(text, /TCP port \(default: 12345\)/);
    assert.match(text, /LWSTCP_KEY/);
    assert.match(text, /example:\n {2}lwstcp-demo --port 12345 --quiet\n$/);
  });

  describe("runTool, as a process", function () {
    this.timeout(20000);
    const args = fileURLToPath(new URL("../server/cli/args.js", import.meta.url));
    // A tiny tool: prints lines, fails as asked, or writes many lines (for a closed pipe).
    const tool = `
      import { runTool, portFlag, keyFromFlags, KEY_FLAG_SPECS } from ${JSON.stringify(args)};
      const spec = { program: "lwstcp-demo", summary: "demo", usage: "[--fail]", examples: ["lwstcp-demo"],
        flags: [{ name: "port", value: "PORT", help: "p" }, { name: "fail", help: "f" }, { name: "many", help: "m" }, ...KEY_FLAG_SPECS] };
      runTool(spec, async (flags) => {
        portFlag(flags, "port");
        if (flags.has("key") || process.env.LWSTCP_KEY) keyFromFlags(flags, process.env);
        if (flags.has("fail")) throw new Error("it broke\\nsecond line");
        if (flags.has("many")) { for (let i = 0; i < 100000; i++) process.stdout.write("line " + i + "\\n"); return 3; }
        process.stdout.write("ran\\n");
        return 0;
      });`;
    const file = join(tmpdir(), "lwstcp-demo-tool-" + process.pid + ".mjs");
    before(() => writeFileSync(file, tool));
    const run = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [file, ...argv], { encoding: "utf8", env: { ...process.env, LWSTCP_KEY: "", LWSTCP_DEBUG: "", ...env } });

    it("--help and --version exit 0 on stdout, a UsageError exits 2 with one line, another error exits 1 with one line", () => {
      const help = run(["--port", "x", "--help"]);
      assert.equal(help.status, 0);
      assert.match(help.stdout, /^usage: lwstcp-demo/);
      const version = run(["--version"]);
      assert.equal(version.status, 0);
      assert.equal(version.stdout, "lwstcp-demo " + packageVersion() + "\n");
      assert.match(packageVersion(), /^\d+\.\d+\.\d+/);
      const bad = run(["--port", "70000"]);
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr, "lwstcp-demo: --port must be a port from 1 to 65535, got '70000' (see --help)\n");
      const key = run([], { LWSTCP_KEY: "zz" });
      assert.equal(key.status, 2);
      assert.equal(key.stderr, "lwstcp-demo: LWSTCP_KEY must be 64 hex digits or 8 u32 words (0x… or decimal), got 'zz' (see --help)\n");
      const broke = run(["--fail"]);
      assert.equal(broke.status, 1);
      assert.equal(broke.stderr, "lwstcp-demo: it broke\n");
      const debug = run(["--fail"], { LWSTCP_DEBUG: "1" });
      assert.equal(debug.status, 1);
      assert.match(debug.stderr, /^lwstcp-demo: it broke\n.*\n {4}at /s);
      assert.equal(run([]).stdout, "ran\n");
    });

    it("ends quietly when its stdout is closed early (| head -1)", async () => {
      const child = spawn(process.execPath, [file, "--many"], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      assert.equal(err, "");
      assert.ok(code === 0 || code === 3, "exit code " + code);
    });
  });
});
