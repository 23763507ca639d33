// The CLIs as users run them: spawned processes talking over 127.0.0.1, with exit codes
// checked. The server listens on --port 0 and its "started" log line says the port.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exited } from "./helpers/processes.js";
import { KEY_HEX, OTHER_KEY_HEX, within } from "./helpers/server.js";
import { until } from "./helpers/until.js";

const SERVER_CLI = fileURLToPath(new URL("../server/cli/lwstcp-server.js", import.meta.url));
const CLIENT_CLI = fileURLToPath(new URL("../server/cli/lwstcp-client.js", import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, LWSTCP_KEY: "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => (out += chunk));
  child.stderr?.on("data", (chunk) => (err += chunk));
  const exit = exited(child);
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function finished(r: Run, ms = 10000): Promise<number | null> {
  return within(r.exit, ms, "process exit (stderr: " + r.stderr() + ")");
}

/** Starts lwstcp-server with JSON logs and resolves with its port once it listens. */
async function startServerCli(args: string[]): Promise<{ server: Run; port: number; events: () => Array<Record<string, unknown>> }> {
  const server = run(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--log", "json", ...args]);
  const events = () =>
    server
      .stdout()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const deadline = Date.now() + 10000;
  for (;;) {
    const started = events().find((e) => e.event === "started");
    if (started) return { server, port: started.port as number, events };
    if (server.child.exitCode !== null) throw new Error("server exited: " + server.stderr());
    if (Date.now() > deadline) throw new Error("server did not start: " + server.stderr());
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("lwstcp-server and lwstcp-client as processes", function () {
  this.timeout(30000);
  const running: Run[] = [];

  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  });

  it("plays FizzBuzz: the client verifies 50 replies and exits 0; the server logs JSON events", async () => {
    const { server, port, events } = await startServerCli(["--key", KEY_HEX, "--mode", "fizzbuzz", "--log-level", "debug"]);
    running.push(server);
    const client = run(CLIENT_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", KEY_HEX, "--mode", "fizzbuzz", "--count", "50"]);
    assert.equal(await finished(client), 0, client.stderr());
    assert.match(client.stdout(), /50 replies verified/);
    const seen = events();
    const success = seen.find((e) => e.event === "handshake-success");
    assert.ok(success, "a handshake-success event");
    assert.match(String(success.peer), /^127\.0\.0\.1:\d+$/);
    assert.ok(typeof success.t === "string" && !Number.isNaN(Date.parse(success.t as string)));
    assert.equal(seen.filter((e) => e.event === "message").length, 50);
    assert.ok(seen.some((e) => e.event === "message" && e.bytes === 1));
  });

  it("echoes messages of 1, 8 and 65528 bytes (key as words in a file, and from LWSTCP_KEY)", async () => {
    const words = Array.from(
      { length: 8 },
      (_, i) =>
        "0x" +
        Buffer.from(KEY_HEX, "hex")
          .readUInt32LE(i * 4)
          .toString(16),
    ).join(",");
    const keyFile = join(tmpdir(), "lwstcp-test-key-" + process.pid);
    writeFileSync(keyFile, words + "\n");
    const { server, port } = await startServerCli(["--key-file", keyFile, "--mode", "echo"]);
    running.push(server);
    const client = run(CLIENT_CLI, ["--port", String(port), "--mode", "echo", "--sizes", "1,8,65528"], { LWSTCP_KEY: KEY_HEX });
    assert.equal(await finished(client), 0, client.stderr());
    assert.match(client.stdout(), /65528 bytes ok/);
  });

  it("sends stdin lines and prints what arrives; SIGTERM on the server disconnects the client and exits 0", async () => {
    const { server, port, events } = await startServerCli(["--key-words", keyWords(), "--mode", "echo"]);
    running.push(server);
    const client = run(CLIENT_CLI, ["--port", String(port), "--key", KEY_HEX, "--mode", "lines"]);
    running.push(client);
    client.child.stdin?.write("hello\nGrüße 🌍\n");
    await until(() => client.stdout().includes("Grüße 🌍"), { timeoutMs: 10000, what: "the echoed lines" });
    assert.equal(client.stdout(), "hello\nGrüße 🌍\n");
    server.child.kill("SIGTERM");
    assert.equal(await finished(server), 0, server.stderr());
    assert.equal(await finished(client), 0, client.stderr());
    assert.match(client.stderr(), /session-ended .*reason=disconnect/);
    assert.ok(events().some((e) => e.event === "session-ended" && e.reason === "local-disconnect"));
  });

  it("exits 1 when the key is wrong, and the server logs handshake-failed", async () => {
    const { server, port, events } = await startServerCli(["--key", KEY_HEX]);
    running.push(server);
    const client = run(CLIENT_CLI, ["--port", String(port), "--key", OTHER_KEY_HEX, "--mode", "fizzbuzz", "--count", "1"]);
    assert.equal(await finished(client), 1);
    await until(() => events().some((e) => e.event === "handshake-failed"), { timeoutMs: 10000, what: "handshake-failed event" });
    assert.equal(events().find((e) => e.event === "handshake-failed")?.reason, "verify-failed");
  });

  const badInputs: Array<[string, string, string[], RegExp]> = [
    ["server", "an unknown flag", ["--port", "1", "--key", KEY_HEX, "--colour", "red"], /unknown flag --colour/],
    ["server", "a missing port", ["--key", KEY_HEX], /--port/],
    ["server", "a port out of range", ["--port", "70000", "--key", KEY_HEX], /--port must be a port from 0 to 65535 \(0: any free port\), got '70000'/],
    ["server", "a short hex key", ["--port", "1", "--key", KEY_HEX.slice(2)], /--key must be 64 hex digits/],
    ["server", "seven key words", ["--port", "1", "--key-words", "1,2,3,4,5,6,7"], /--key-words must be 64 hex digits or 8 u32 words/],
    ["server", "no key at all", ["--port", "1"], /no handshake key/],
    ["server", "two key flags", ["--port", "1", "--key", KEY_HEX, "--key-words", keyWords()], /only one of/],
    ["server", "a missing key file", ["--port", "1", "--key-file", "/nonexistent/key"], /--key-file: cannot read/],
    ["server", "a bad mode", ["--port", "1", "--key", KEY_HEX, "--mode", "chat"], /--mode must be one of fizzbuzz, echo, print/],
    [
      "server",
      "keep-alive not below the timeout",
      ["--port", "1", "--key", KEY_HEX, "--keepalive", "500", "--timeout", "400"],
      /shorter than the inactivity timeout/,
    ],
    ["server", "rounds out of range", ["--port", "1", "--key", KEY_HEX, "--rounds", "129"], /--rounds must be from 1 to 128/],
    ["client", "fizzbuzz without --count", ["--port", "1", "--key", KEY_HEX, "--mode", "fizzbuzz"], /--count/],
    ["client", "echo with a size of 65529", ["--port", "1", "--key", KEY_HEX, "--mode", "echo", "--sizes", "1,65529"], /--sizes/],
    ["client", "no mode", ["--port", "1", "--key", KEY_HEX], /--mode is required/],
  ];
  for (const [which, what, args, message] of badInputs) {
    it("lwstcp-" + which + " exits 2 with one line naming the problem for " + what, async () => {
      const r = run(which === "server" ? SERVER_CLI : CLIENT_CLI, args);
      assert.equal(await finished(r), 2);
      const lines = r.stderr().trim().split("\n");
      assert.equal(lines.length, 1, r.stderr());
      assert.match(lines[0], message);
      assert.match(lines[0], new RegExp("^lwstcp-" + which + ": "));
    });
  }
});

function keyWords(): string {
  return Array.from({ length: 8 }, (_, i) => String(Buffer.from(KEY_HEX, "hex").readUInt32LE(i * 4))).join(",");
}
