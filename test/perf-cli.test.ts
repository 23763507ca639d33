// The performance tools as users run them, as spawned processes on 127.0.0.1: lwstcp-server
// --workers N (node:cluster) and the lwstcp-bench load generator. Functional only: what they
// print and how they exit, never how fast (timings live in npm run bench).

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exited } from "./helpers/processes.js";
import { KEY_HEX, OTHER_KEY_HEX, within } from "./helpers/server.js";

const SERVER_CLI = fileURLToPath(new URL("../server/cli/lwstcp-server.js", import.meta.url));
const CLIENT_CLI = fileURLToPath(new URL("../server/cli/lwstcp-client.js", import.meta.url));
const BENCH_CLI = fileURLToPath(new URL("../server/cli/lwstcp-bench.js", import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

const running: Run[] = [];

function run(script: string, args: string[]): Run {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, LWSTCP_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => (out += chunk));
  child.stderr?.on("data", (chunk) => (err += chunk));
  const exit = exited(child);
  const r = { child, stdout: () => out, stderr: () => err, exit };
  running.push(r);
  return r;
}

const finished = (r: Run, ms = 15000) => within(r.exit, ms, "process exit (stderr: " + r.stderr() + ")");

function events(r: Run): Array<Record<string, unknown>> {
  return r
    .stdout()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function startServer(args: string[]): Promise<{ server: Run; port: number }> {
  const mode = args.includes("--mode") ? [] : ["--mode", "echo"];
  const server = run(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--log", "json", "--key", KEY_HEX, ...mode, ...args]);
  const deadline = Date.now() + 15000;
  for (;;) {
    const started = events(server).find((e) => e.event === "started");
    if (started) return { server, port: started.port as number };
    if (server.child.exitCode !== null) throw new Error("server exited: " + server.stderr());
    if (Date.now() > deadline) throw new Error("server did not start: " + server.stderr());
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("performance tools as processes", function () {
  this.timeout(30000);
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  });

  describe("lwstcp-server --workers", () => {
    it("starts N workers on one port, spreads sessions over them, echoes, and stops them all on SIGTERM", async () => {
      const { server, port } = await startServer(["--workers", "2"]);
      const started = events(server).find((e) => e.event === "started");
      assert.equal(started?.workers, 2);
      // Round-robin hands consecutive connections to different workers.
      for (let i = 0; i < 4; i++) {
        const client = run(CLIENT_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", KEY_HEX, "--mode", "echo", "--sizes", "1,16,300"]);
        assert.equal(await finished(client), 0, client.stderr());
        assert.match(client.stdout(), /echo: 300 bytes ok/);
      }
      const workers = new Set(
        events(server)
          .filter((e) => e.event === "handshake-success")
          .map((e) => e.worker),
      );
      assert.deepEqual([...workers].sort(), [1, 2]);
      server.child.kill("SIGTERM");
      assert.equal(await finished(server), 0);
      const names = events(server).map((e) => e.event);
      assert.ok(names.includes("stopping") && names.at(-1) === "stopped", names.join(","));
    });

    it("--quiet leaves out per-session lines but keeps started", async () => {
      const { server, port } = await startServer(["--quiet"]);
      const client = run(CLIENT_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", KEY_HEX, "--mode", "echo", "--sizes", "8"]);
      assert.equal(await finished(client), 0, client.stderr());
      server.child.kill("SIGTERM");
      assert.equal(await finished(server), 0);
      assert.deepEqual(
        events(server).map((e) => e.event),
        ["started", "stopping", "stopped"],
      );
    });

    it("rejects a bad --workers value with exit code 2", async () => {
      const bad = run(SERVER_CLI, ["--port", "0", "--key", KEY_HEX, "--workers", "0"]);
      assert.equal(await finished(bad), 2);
      assert.match(bad.stderr(), /--workers must be from 1/);
    });
  });

  describe("lwstcp-bench", () => {
    it("echo mode: opens the sessions, reports messages/s and round-trip percentiles as JSON, with progress lines", async () => {
      const { port } = await startServer(["--quiet"]);
      const bench = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--sessions", "3", "--size", "100", "--duration", "1.2", "--json"]);
      assert.equal(await finished(bench), 0, bench.stderr());
      const report = JSON.parse(bench.stdout());
      assert.equal(report.mode, "echo");
      assert.equal(report.sessionsOpened, 3);
      assert.equal(report.handshakes, 3);
      assert.ok(report.messages > 0 && report.messagesPerSecond > 0);
      assert.ok(Math.abs(report.bytesPerSecond - report.messagesPerSecond * 100) <= 100, "100 payload bytes per message");
      assert.equal(report.errors, 0);
      for (const key of ["p50", "p90", "p99", "max"]) assert.ok(report.roundTripLatency[key] > 0, key);
      assert.ok(report.roundTripLatency.p50 <= report.roundTripLatency.p99);
      assert.match(bench.stderr(), /\[1s\] sessions 3, handshakes 3, messages \d+, errors 0/);
    });

    it("echo mode at a fixed --rate, and the readable summary", async () => {
      const { port } = await startServer(["--quiet"]);
      const bench = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--sessions", "2", "--rate", "200", "--duration", "0.5"]);
      assert.equal(await finished(bench), 0, bench.stderr());
      assert.match(bench.stdout(), /^mode echo: 2\/2 sessions/);
      const echoed = Number(/messages: (\d+) echoed/.exec(bench.stdout())?.[1]);
      assert.ok(echoed > 20 && echoed <= 110, bench.stdout()); // ≈ 100 sent in 0.5 s at 200/s
      assert.match(bench.stdout(), /round-trip latency: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms/);
    });

    it("handshake and idle modes", async () => {
      const { server, port } = await startServer([]);
      const hs = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--mode", "handshake", "--sessions", "2", "--duration", "0.4", "--json"]);
      assert.equal(await finished(hs), 0, hs.stderr());
      const h = JSON.parse(hs.stdout());
      assert.ok(h.handshakes > 0 && h.handshakesPerSecond > 0 && h.handshakeFailures === 0);
      assert.equal(h.handshakeLatency.count, h.handshakes);
      const idle = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--mode", "idle", "--sessions", "5", "--duration", "0.3", "--json"]);
      assert.equal(await finished(idle), 0, idle.stderr());
      const i = JSON.parse(idle.stdout());
      assert.equal(i.sessionsOpened, 5);
      assert.equal(i.messages, 0);
      // The server saw every handshake of both runs succeed.
      const ok = events(server).filter((e) => e.event === "handshake-success").length;
      assert.equal(ok, h.handshakes + 5);
    });

    it("--profile v2 loads a v2 server (and a v1 client gets no session there)", async () => {
      const { port } = await startServer(["--quiet", "--profile", "v2"]);
      const v2 = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--profile", "v2", "--sessions", "2", "--duration", "0.3", "--json"]);
      assert.equal(await finished(v2), 0, v2.stderr());
      const report = JSON.parse(v2.stdout());
      assert.equal(report.sessionsOpened, 2);
      assert.ok(report.messages > 0);
      const v1 = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--sessions", "1", "--duration", "0.2", "--json"]);
      assert.equal(await finished(v1), 1);
    });

    it("echo mode against a server that does not echo says so and exits 1", async () => {
      // print mode answers nothing.
      const { port } = await startServer(["--quiet", "--mode", "print"]);
      const silent = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--sessions", "2", "--duration", "0.3", "--json"]);
      assert.equal(await finished(silent), 1, silent.stderr());
      assert.equal(JSON.parse(silent.stdout()).sessionsOpened, 2);
      assert.match(silent.stderr(), /^lwstcp-bench: no reply to 2 messages in \d+\.\d s: the server does not echo \(run it with --mode echo\)$/m);
      // A reply that is not the message sent: fizzbuzz answers the bench's "1" with "2".
      const { port: other } = await startServer(["--quiet", "--mode", "fizzbuzz"]);
      const wrong = run(BENCH_CLI, ["--port", String(other), "--key", KEY_HEX, "--size", "1", "--duration", "0.3"]);
      assert.equal(await finished(wrong), 1, wrong.stderr());
      assert.match(wrong.stderr(), /^lwstcp-bench: \d+ replies were not the message sent: the server does not echo/m);
    });

    it("exits 1 when no session opens (wrong key) and 2 for bad flags", async () => {
      const { port } = await startServer(["--quiet"]);
      const wrong = run(BENCH_CLI, ["--port", String(port), "--key", OTHER_KEY_HEX, "--sessions", "1", "--duration", "0.2", "--json"]);
      assert.equal(await finished(wrong), 1);
      assert.equal(JSON.parse(wrong.stdout()).handshakeFailures, 1);
      assert.deepEqual(Object.values(JSON.parse(wrong.stdout()).handshakeFailureReasons), [1]);
      const bad = run(BENCH_CLI, ["--port", String(port), "--key", KEY_HEX, "--size", "70000"]);
      assert.equal(await finished(bad), 2);
      assert.match(bad.stderr(), /--size must be from 1 to 65528/);
      const help = run(BENCH_CLI, ["--help"]);
      assert.equal(await finished(help), 0);
      assert.match(help.stdout(), /--sessions/);
    });
  });
});
