// Every command-line tool answers the same way, as a spawned process: --help (every flag, a
// default, an example), --version, and for a typo'd flag, a missing value, a bad port, a bad
// key or a missing file one line on stderr naming the problem, exit 2, never a stack; a
// closed stdout (`… | head -1`) ends the tool quietly. One table of tools, one table of
// cases; a case runs for every tool it applies to.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEY_HEX } from "./helpers/server.js";

const VERSION = JSON.parse(readFileSync("package.json", "utf8")).version;
const KEY = ["--key", KEY_HEX];

interface Tool {
  /** The name it gives itself in messages and in --version. */
  program: string;
  script: string;
  /** Flags its --help must list. */
  flags: string[];
  /** Arguments that make a valid run, apart from what a case adds. */
  base: string[];
  /** Arguments ending in a flag that needs a value. */
  missingValue: string[];
  /** The TCP port flag: the arguments without it, and whether 0 (any free port) is allowed. */
  port?: { rest: string[]; allowZero: boolean };
  /** The arguments without a key, when the tool takes the key flags. */
  keyless?: string[];
  /** --only: what it selects, and the results file a run that ran nothing must leave alone. */
  only?: { what: string; results: string };
  /** Its own missing file: the arguments and the message. */
  missingFile?: { args: string[]; message: RegExp };
  /** Takes its flags from `--config FILE` too (ToolSpec.config). */
  flagsFile?: boolean;
  /** Arguments of a valid run apart from --profile and --device-id, when the tool takes --device-id. */
  deviceId?: string[];
  /** When the tool is not on the shared layer yet (another branch), why its cases are pending. */
  pending?: () => string | undefined;
}

const KEY_FLAGS = ["--key HEX64", "--key-words W0,...,W7", "--key-file FILE"];

const TOOLS: Tool[] = [
  {
    program: "lwstcp-server",
    script: "build/server/cli/lwstcp-server.js",
    flags: [
      "--port PORT",
      "--host HOST",
      ...KEY_FLAGS,
      "--rounds",
      "--profile",
      "--keepalive",
      "--timeout",
      "--mode",
      "--log",
      "--workers",
      "--max-sessions",
      "--http [HOST:]PORT",
      "--stats-interval",
      "--mqtt URL",
      "--mqtt-prefix",
      "--mqtt-name",
      "--mqtt-username",
      "--mqtt-password-file",
      "--log-level error|warn|info|debug",
      "--quiet",
      "--config FILE",
      "--keys FILE",
    ],
    base: ["--port", "0", "--host", "127.0.0.1", ...KEY],
    missingValue: [...KEY, "--port"],
    port: { rest: KEY, allowZero: true },
    keyless: ["--port", "0"],
    flagsFile: true,
    missingFile: {
      args: ["--port", "0", "--profile", "v2", "--keys", "/nonexistent/keys.json"],
      message: /--keys: cannot read \/nonexistent\/keys\.json: ENOENT/,
    },
  },
  {
    program: "lwstcp-client",
    script: "build/server/cli/lwstcp-client.js",
    flags: [
      "--host HOST",
      "--port PORT",
      ...KEY_FLAGS,
      "--rounds",
      "--profile",
      "--keepalive",
      "--timeout",
      "--log",
      "--mode",
      "--count",
      "--sizes",
      "--device-id ID",
    ],
    base: ["--port", "1", ...KEY, "--mode", "fizzbuzz", "--count", "1"],
    deviceId: ["--port", "1", ...KEY, "--mode", "fizzbuzz", "--count", "1"],
    missingValue: [...KEY, "--mode", "fizzbuzz", "--count"],
    port: { rest: [...KEY, "--mode", "fizzbuzz", "--count", "1"], allowZero: false },
    keyless: ["--port", "1", "--mode", "fizzbuzz", "--count", "1"],
  },
  {
    program: "lwstcp-bench",
    script: "build/server/cli/lwstcp-bench.js",
    flags: [
      "--host HOST",
      "--port PORT",
      ...KEY_FLAGS,
      "--mode",
      "--sessions",
      "--rate",
      "--size",
      "--duration",
      "--connect-concurrency",
      "--json",
      "--device-id ID",
    ],
    base: ["--port", "1", ...KEY],
    deviceId: ["--port", "1", ...KEY],
    missingValue: [...KEY, "--port"],
    port: { rest: KEY, allowZero: false },
    keyless: ["--port", "1"],
  },
  {
    program: "lwstcp-sim",
    script: "build/host-sim/cli.js",
    flags: ["--port", ...KEY_FLAGS, "--devices", "--profile", "--rounds", "--count", "--duration", "--role", "--app FILE", "--config FILE", "--device-id ID"],
    base: [],
    deviceId: [],
    missingValue: ["--port"],
    // Role client (the default) connects out: 0 is no port to connect to.
    port: { rest: [], allowZero: false },
    keyless: [],
    pending: () => {
      const version = spawnSync(process.execPath, ["build/host-sim/cli.js", "--version"], { encoding: "utf8", timeout: 10000 });
      return version.stdout === "lwstcp-sim " + VERSION + "\n" ? undefined : "the simulator CLI is not on the shared layer in this branch";
    },
  },
  {
    program: "npm run bench",
    script: "bench/run.mjs",
    flags: ["--quick", "--only SUITE,...", "--check"],
    base: [],
    missingValue: ["--only"],
    only: { what: "suite", results: "bench/results.json" },
  },
  {
    program: "npm run stress",
    script: "stress/run.mjs",
    flags: ["--only SCENARIO,...", "--scale X", "--seed N", "--fuzz-seconds S"],
    base: [],
    missingValue: ["--only"],
    only: { what: "scenario", results: "stress/results.json" },
  },
  {
    program: "npm run flash",
    script: "scripts/flash.mjs",
    flags: ["--port DEVICE", "--out FILE", "--save", "--baud N", "--board NAME", "--config FILE", "--no-build", "--app FILE"],
    base: ["--out", "upload.js", "--no-build"],
    missingValue: ["--out"],
    missingFile: { args: ["--out", "upload.js", "--no-build", "--config", "/nonexistent/config.json"], message: /\/nonexistent\/config\.json not found/ },
  },
  {
    program: "lwstcp-flash",
    script: "scripts/lwstcp-flash.mjs",
    flags: ["--port DEVICE", "--out FILE", "--save", "--baud N", "--board NAME", "--config FILE", "--no-build", "--app FILE"],
    base: ["--out", "upload.js", "--no-build"],
    missingValue: ["--out"],
    missingFile: { args: ["--app", "/nonexistent/app.js", "--out", "upload.js"], message: /\/nonexistent\/app\.js not found/ },
  },
  {
    program: "lwstcp-firmware",
    script: "scripts/lwstcp-firmware.mjs",
    flags: ["--board NAME", "--out FILE", "--module"],
    base: ["check", "dist/app-esp32.js"],
    missingValue: ["build", "firmware/apps/demo.ts", "--out"],
    missingFile: { args: ["check", "/nonexistent/app.js"], message: /\/nonexistent\/app\.js not found/ },
  },
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runTool(tool: Tool, args: string[], env: NodeJS.ProcessEnv = {}, closeStdout = false): Promise<Result> {
  const child = spawn(process.execPath, [tool.script, ...args], {
    env: { ...process.env, LWSTCP_KEY: "", LWSTCP_DEBUG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  // Closed before the tool even started: its first write meets a closed pipe, as under `| head -1`.
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function assertNoStack(r: Result): void {
  assert.ok(!/\n {4}at |EPIPE/.test(r.stdout + r.stderr), "a stack or EPIPE:\n" + r.stdout + r.stderr);
}

/** Exit 2 and exactly one stderr line, "<program>: …" matching `message`, no stack. */
function assertUsageError(tool: Tool, r: Result, message: RegExp): void {
  assert.equal(r.code, 2, "exit code; stderr: " + r.stderr);
  const lines = r.stderr.replace(/\n$/, "").split("\n");
  assert.equal(lines.length, 1, "one line on stderr:\n" + r.stderr);
  assert.ok(lines[0].startsWith(tool.program + ": "), lines[0]);
  assert.match(lines[0], message);
  assertNoStack(r);
}

function contents(file: string): string | null {
  return existsSync(file) ? readFileSync(file, "latin1") : null;
}

interface Case {
  name: string;
  applies: (tool: Tool) => boolean;
  check: (tool: Tool) => Promise<void>;
}

const CASES: Case[] = [
  {
    name: "--help lists every flag, a default and an example, exit 0",
    applies: () => true,
    check: async (tool) => {
      const r = await runTool(tool, [...tool.base, "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith("usage: " + tool.program + " "), r.stdout);
      for (const flag of [...tool.flags, "--help", "--version"]) assert.ok(r.stdout.includes("  " + flag), flag + " missing from:\n" + r.stdout);
      assert.match(r.stdout, /\(default: /);
      assert.match(r.stdout, /\nexamples?:\n {2}\S/);
      if (tool.keyless) assert.match(r.stdout, /LWSTCP_KEY/);
      assert.equal(r.stderr, "");
    },
  },
  {
    name: "--version prints the package version, exit 0",
    applies: () => true,
    check: async (tool) => {
      const r = await runTool(tool, ["--version"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, tool.program + " " + VERSION + "\n");
    },
  },
  {
    name: "a typo'd flag",
    applies: () => true,
    check: async (tool) => assertUsageError(tool, await runTool(tool, [...tool.base, "--colour", "red"]), /unknown flag --colour/),
  },
  {
    name: "a missing value",
    applies: () => true,
    check: async (tool) => assertUsageError(tool, await runTool(tool, tool.missingValue), / needs a value/),
  },
  {
    name: "bad ports (abc, 70000, and 0 where not allowed)",
    applies: (tool) => tool.port !== undefined,
    check: async (tool) => {
      const port = tool.port as NonNullable<Tool["port"]>;
      const range = port.allowZero ? "0 to 65535" : "1 to 65535";
      for (const bad of ["abc", "70000", "-1", ...(port.allowZero ? [] : ["0"])]) {
        assertUsageError(tool, await runTool(tool, ["--port", bad, ...port.rest]), new RegExp(`--port must be a port from ${range}.*, got '${bad}'`));
      }
    },
  },
  {
    name: "LWSTCP_KEY=zz",
    applies: (tool) => tool.keyless !== undefined,
    check: async (tool) =>
      assertUsageError(
        tool,
        await runTool(tool, tool.keyless as string[], { LWSTCP_KEY: "zz" }),
        /LWSTCP_KEY must be 64 hex digits or 8 u32 words \(0x… or decimal\), got 'zz'/,
      ),
  },
  {
    name: "a bad --key",
    applies: (tool) => tool.keyless !== undefined,
    check: async (tool) =>
      assertUsageError(tool, await runTool(tool, [...(tool.keyless as string[]), "--key", "abc"]), /--key must be 64 hex digits or 8 u32 words .*, got 'abc'/),
  },
  {
    name: "a missing key file",
    applies: (tool) => tool.keyless !== undefined,
    check: async (tool) =>
      assertUsageError(
        tool,
        await runTool(tool, [...(tool.keyless as string[]), "--key-file", "/nonexistent/key"]),
        /--key-file: cannot read \/nonexistent\/key: ENOENT/,
      ),
  },
  {
    name: "a bad --device-id, and --device-id without --profile v2",
    applies: (tool) => tool.deviceId !== undefined,
    check: async (tool) => {
      const rest = tool.deviceId as string[];
      assertUsageError(
        tool,
        await runTool(tool, [...rest, "--profile", "v2", "--device-id", "two words"]),
        /--device-id: a device id may hold only printable ASCII/,
      );
      assertUsageError(
        tool,
        await runTool(tool, [...rest, "--profile", "v2", "--device-id", "x".repeat(33)]),
        /--device-id: a device id must be a string of 1 to 32 characters, got 33/,
      );
      assertUsageError(tool, await runTool(tool, [...rest, "--device-id", "kitchen-1"]), /--device-id needs --profile v2/);
    },
  },
  {
    name: "a missing file",
    applies: (tool) => tool.missingFile !== undefined,
    check: async (tool) => {
      const missing = tool.missingFile as NonNullable<Tool["missingFile"]>;
      assertUsageError(tool, await runTool(tool, missing.args), missing.message);
    },
  },
  {
    name: "an unknown --only name (both spellings) leaves the results file alone",
    applies: (tool) => tool.only !== undefined,
    check: async (tool) => {
      const only = tool.only as NonNullable<Tool["only"]>;
      const before = contents(only.results);
      assertUsageError(tool, await runTool(tool, ["--only", "nope"]), new RegExp(`--only: unknown ${only.what} 'nope' \\(known: `));
      assertUsageError(tool, await runTool(tool, ["--only=nope,"]), new RegExp(`--only: unknown ${only.what} 'nope'`));
      assert.equal(contents(only.results), before, only.results + " untouched");
    },
  },
  {
    name: "--config: an unreadable file, and a key that is no flag",
    applies: (tool) => tool.flagsFile === true,
    check: async (tool) => {
      assertUsageError(
        tool,
        await runTool(tool, [...tool.base, "--config", "/nonexistent/config.json"]),
        /--config: cannot read \/nonexistent\/config\.json: ENOENT/,
      );
      const file = join(tmpdir(), "lwstcp-cli-tools-" + process.pid + ".json");
      writeFileSync(file, JSON.stringify({ colour: "red" }));
      try {
        assertUsageError(tool, await runTool(tool, [...tool.base, "--config", file]), new RegExp(file + ': unknown key "colour"'));
      } finally {
        rmSync(file, { force: true });
      }
    },
  },
  {
    name: "a closed stdout (| head -1) ends it quietly",
    applies: () => true,
    check: async (tool) => {
      const r = await runTool(tool, ["--help"], {}, true);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    },
  },
];

describe("every command-line tool answers the same way", function () {
  this.timeout(60000);
  for (const tool of TOOLS) {
    describe(tool.program, () => {
      let pendingReason: string | undefined;
      before(function () {
        pendingReason = tool.pending?.();
        if (pendingReason) this.skip();
      });
      for (const c of CASES.filter((c) => c.applies(tool))) it(c.name, () => c.check(tool));
    });
  }

  it("lwstcp-server with its stdout closed while serving stops quietly at its first log line", async () => {
    const r = await runTool(TOOLS[0], TOOLS[0].base, {}, true);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });
});
