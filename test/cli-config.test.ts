// --config FILE, the shared layer's config file (server/cli/args.ts): a JSON object keyed by a
// tool's long flag names, merged under the command line (a typed flag, or another flag of its
// group, wins), every value checked by the flag's own check, and every mistake one line naming
// the file and the key. Then lwstcp-server as a process: docs/server.example.json loads, and
// every flag in its --help (whoever added it) is a config key.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFileOf, KEY_FLAG_SPECS, parseTool, type ToolSpec, UsageError } from "../server/cli/args.js";
import { LightweightSecureClient } from "../server/index.js";
import { SERVER_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";
import { KEY_HEX, within } from "./helpers/server.js";

const SPEC: ToolSpec = {
  program: "lwstcp-demo",
  summary: "A tool for the tests.",
  usage: "[flags]",
  flags: [
    { name: "port", value: "PORT", help: "TCP port" },
    { name: "mode", value: "M", help: "mode" },
    { name: "quiet", help: "say less" },
    { name: "verbose", help: "say more" },
    ...KEY_FLAG_SPECS,
  ],
  examples: ["lwstcp-demo --port 1"],
  config: true,
};

const dir = mkdtempSync(join(tmpdir(), "lwstcp-config-"));
let files = 0;

/** A config file holding `content` (an object is written as JSON), mode 0600 unless told. */
function configFile(content: unknown, mode = 0o600): string {
  const file = join(dir, "config-" + files++ + ".json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  chmodSync(file, mode);
  return file;
}

function parse(argv: string[]): { flags: Map<string, string>; warnings: string[] } {
  const warnings: string[] = [];
  const flags = parseTool(SPEC, argv, (line) => warnings.push(line));
  return { flags, warnings };
}

const usage = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, message);
    assert.ok(!err.message.includes("\n"), "one line: " + err.message);
    return true;
  });

describe("--config FILE", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("in the shared command-line layer", () => {
    it("takes the file's flags, as text, with switches as true/false, under the command line's", () => {
      const file = configFile({ port: 12345, mode: "echo", quiet: true, verbose: false });
      const { flags, warnings } = parse(["--config", file, "--mode", "print"]);
      assert.equal(flags.get("port"), "12345");
      assert.equal(flags.get("mode"), "print");
      assert.equal(flags.get("quiet"), "");
      assert.equal(flags.has("verbose"), false);
      assert.deepEqual(warnings, []);
      assert.equal(configFileOf(flags, "port"), file);
      assert.equal(configFileOf(flags, "mode"), undefined, "typed, so not from the file");
      assert.equal(configFileOf(flags, "verbose"), undefined);
    });

    it("a typed flag replaces the file's whole group: --key on the command line drops the file's key-file", () => {
      const file = configFile({ "key-file": "/etc/lwstcp/server.key", port: 1 });
      const { flags } = parse(["--config", file, "--key", KEY_HEX]);
      assert.equal(flags.get("key"), KEY_HEX);
      assert.equal(flags.has("key-file"), false);
      // Without a typed key the file's stays.
      assert.equal(parse(["--config", file]).flags.get("key-file"), "/etc/lwstcp/server.key");
    });

    it("answers every mistake in the file with one line naming the file and the key", () => {
      usage(() => parse(["--config", join(dir, "missing.json")]), /^--config: cannot read .*missing\.json: ENOENT$/);
      const broken = configFile('{"port": 1,');
      usage(() => parse(["--config", broken]), new RegExp("^" + broken + ": not valid JSON: "));
      const list = configFile([1, 2]);
      usage(() => parse(["--config", list]), new RegExp("^" + list + ': must hold one JSON object of flags, like \\{"port": 12345\\}, got \\[1,2\\]$'));
      const typo = configFile({ prot: 1 });
      usage(() => parse(["--config", typo]), new RegExp("^" + typo + ': unknown key "prot" \\(did you mean "port"\\?\\)$'));
      const unknown = configFile({ colour: "red" });
      usage(() => parse(["--config", unknown]), new RegExp("^" + unknown + ': unknown key "colour" \\(keys are the long flag names'));
      const nested = configFile({ config: "other.json" });
      usage(() => parse(["--config", nested]), new RegExp("^" + nested + ': "config": a config file cannot name another one$'));
      const switchText = configFile({ quiet: "yes" });
      usage(() => parse(["--config", switchText]), new RegExp("^" + switchText + ': "quiet" must be true or false \\(--quiet is a switch\\), got "yes"$'));
      for (const bad of [true, null, [1], { a: 1 }]) {
        const file = configFile({ port: bad });
        usage(() => parse(["--config", file]), new RegExp("^" + file + ': "port" must be a string or a number \\(as --port PORT\\), got '));
      }
    });

    it("warns once when a file holding a key can be read by others, and not for key-file or a private file", () => {
      assert.deepEqual(parse(["--config", configFile({ key: KEY_HEX, "key-words": "1,2,3,4,5,6,7,8" }, 0o644)]).warnings.length, 1);
      const open = configFile({ key: KEY_HEX }, 0o640);
      assert.deepEqual(parse(["--config", open]).warnings, [
        open + ' holds "key" and other users can read it (mode 640): chmod 600 ' + open + ', or keep the key in a file named by "key-file"',
      ]);
      assert.deepEqual(parse(["--config", configFile({ key: KEY_HEX }, 0o600)]).warnings, []);
      assert.deepEqual(parse(["--config", configFile({ "key-file": "/etc/lwstcp/server.key" }, 0o644)]).warnings, []);
    });
  });

  describe("lwstcp-server --config, as a process", function () {
    this.timeout(30000);
    const { procs } = stopAfterEach();
    const keyFile = join(dir, "server.key");

    function server(args: string[]) {
      return spawnSync(process.execPath, [SERVER_CLI, ...args], { encoding: "utf8", timeout: 10000, env: { ...process.env, LWSTCP_KEY: "" } });
    }

    it("loads docs/server.example.json; typed flags override it (port, host, key file) and a v2 client pairs", async () => {
      writeFileSync(keyFile, KEY_HEX + "\n", { mode: 0o600 });
      const example = JSON.parse(readFileSync("docs/server.example.json", "utf8"));
      assert.equal(example.key, undefined, "an example never holds key material");
      assert.equal(example["key-words"], undefined, "an example never holds key material");
      // startLwstcpServer types --port 0 --host 127.0.0.1 --log json.
      const proc = await startLwstcpServer(0, ["--config", "docs/server.example.json", "--key-file", keyFile]);
      procs.push(proc);
      const started = proc.events().find((e) => e.event === "started");
      assert.equal(started?.mode, example.mode);
      assert.equal(started?.profile, example.profile);
      assert.equal(started?.host, "127.0.0.1");
      const client = new LightweightSecureClient("127.0.0.1", started?.port, { key: KEY_HEX, profile: "v2" });
      assert.equal((await client.connectToServer()).success, true);
      const echoed = new Promise<string>((resolve) => client.once("message", resolve));
      client.sendMessage("from the example config");
      assert.equal(await within(echoed, 5000, "the echo"), "from the example config");
      client.disconnect();
    });

    it("warns once about a key in a readable config, also with --workers (the workers parse it again)", async () => {
      const file = configFile({ port: 0, host: "127.0.0.1", key: KEY_HEX, workers: 2, log: "json" }, 0o644);
      const proc = startNode(SERVER_CLI, ["--config", file]);
      procs.push(proc);
      await until(() => proc.events().some((e) => e.event === "started"), { timeoutMs: 15000, what: proc.out, abort: () => proc.child.exitCode !== null });
      assert.equal(proc.events().find((e) => e.event === "started")?.workers, 2);
      proc.child.kill("SIGTERM");
      assert.equal(await within(proc.exit, 10000, "the server to stop"), 0, proc.out());
      assert.deepEqual(
        proc
          .out()
          .split("\n")
          .filter((l) => l.includes("warning")),
        [
          "lwstcp-server: warning: " +
            file +
            ' holds "key" and other users can read it (mode 644): chmod 600 ' +
            file +
            ', or keep the key in a file named by "key-file"',
        ],
      );
    });

    it('fails "port": "abc" exactly as --port abc, naming the file and the key', () => {
      const typed = server(["--port", "abc", "--key", KEY_HEX]);
      const file = configFile({ port: "abc" });
      const filed = server(["--config", file, "--key", KEY_HEX]);
      assert.equal(typed.status, 2);
      assert.equal(filed.status, 2);
      assert.equal(filed.stderr, typed.stderr.replace(/^lwstcp-server: /, "lwstcp-server: " + file + ': "port": '));
    });

    it("takes every flag of its --help as a config key (the table decides, not a list)", () => {
      const help = server(["--help"]).stdout;
      const names = [...help.matchAll(/^ {2}--([a-z0-9-]+)( \S+)?/gm)].map((m) => ({ name: m[1], isSwitch: m[2] === undefined }));
      assert.ok(names.length > 15, help);
      for (const { name, isSwitch } of names.filter((f) => !["help", "version", "config"].includes(f.name))) {
        // A value of the wrong type: the message proves the key was recognised as that flag.
        const r = server(["--config", configFile({ [name]: isSwitch ? 1 : [] }), "--key", KEY_HEX]);
        assert.equal(r.status, 2, name + ": " + r.stderr);
        assert.match(r.stderr, new RegExp('"' + name + '" must be ' + (isSwitch ? "true or false" : "a string or a number")), name);
      }
    });
  });
});
