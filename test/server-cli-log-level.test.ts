// --log-level as users meet it: lwstcp-server spawned at each level (and with --quiet, its
// alias for warn) goes through the same events — a session with messages, a message that
// fails, a wrong key, a refused connection — and only the events at or above the level are
// written, each JSON line carrying its level. The level table in docs/FLEET.md is the code's.
// Under the systemd journal (JOURNAL_STREAM names stdout) text lines carry syslog priorities.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LightweightSecureClient } from "../server/index.js";
import { EVENT_LEVELS } from "../server/log.js";
import { exited, type Proc, SERVER_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";
import { KEY_HEX, OTHER_KEY_HEX, within } from "./helpers/server.js";

/** What each level writes of the scenario's events (the scenario produces all of them). */
const EXPECTED: Record<string, string[]> = {
  debug: ["started", "handshake-started", "handshake-success", "message", "error", "session-ended", "handshake-failed", "refused", "stopping", "stopped"],
  info: ["started", "handshake-success", "error", "session-ended", "handshake-failed", "refused", "stopping", "stopped"],
  warn: ["started", "error", "refused", "stopping", "stopped"],
  error: ["started", "error", "stopping", "stopped"],
};

function rawSocket(port: number): { socket: Socket; closed: () => boolean } {
  let closed = false;
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  return { socket, closed: () => closed };
}

/**
 * A FizzBuzz session ("1" answered, "hello" an error), a wrong key, and a connection over
 * --max-sessions 1 (refused); then SIGTERM. Waits for a line only where `level` writes it.
 */
async function scenario(server: Proc, writes: string[]): Promise<void> {
  const port = server.events().find((e) => e.event === "started")?.port as number;
  const seen = (event: string) => server.events().some((e) => e.event === event);
  const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX });
  assert.equal((await client.connectToServer()).success, true);
  const reply = new Promise<string>((resolve) => client.once("message", resolve));
  client.sendMessage("1");
  assert.equal(await within(reply, 5000, "the FizzBuzz reply"), "2     (:");
  client.sendMessage("hello");
  await until(() => seen("error"), { timeoutMs: 5000, what: () => "the error line: " + server.out() });
  const ended = new Promise((resolve) => client.once("disconnected", resolve));
  client.disconnect();
  await within(ended, 5000, "the session to end");
  if (writes.includes("session-ended")) await until(() => seen("session-ended"), { timeoutMs: 5000, what: "session-ended" });

  const wrong = new LightweightSecureClient("127.0.0.1", port, { key: OTHER_KEY_HEX });
  assert.equal((await wrong.connectToServer()).success, false);
  wrong.disconnect();
  if (writes.includes("handshake-failed")) await until(() => seen("handshake-failed"), { timeoutMs: 5000, what: "handshake-failed" });

  // Two silent connections with room for one: the server refuses one and closes it.
  const first = rawSocket(port);
  const second = rawSocket(port);
  await until(() => first.closed() || second.closed(), { timeoutMs: 5000, what: "a connection refused" });
  if (writes.includes("refused")) await until(() => seen("refused"), { timeoutMs: 5000, what: "refused" });
  first.socket.destroy();
  second.socket.destroy();
  server.child.kill("SIGTERM");
  assert.equal(await within(server.exit, 10000, "the server to stop"), 0, server.out());
}

describe("lwstcp-server --log-level", function () {
  this.timeout(30000);
  const { procs } = stopAfterEach();
  const base = ["--key", KEY_HEX, "--mode", "fizzbuzz", "--max-sessions", "1", "--silent-timeout", "60000"];

  const runs: Array<[string, string[], string]> = [
    ["debug", ["--log-level", "debug"], "debug"],
    ["info (the default)", [], "info"],
    ["warn", ["--log-level", "warn"], "warn"],
    ["--quiet (= warn)", ["--quiet"], "warn"],
    ["error", ["--log-level=error"], "error"],
  ];
  for (const [name, flags, level] of runs) {
    it(name + ": writes " + EXPECTED[level].join(", "), async () => {
      // Not startLwstcpServer, which logs everything unless told a level.
      const server = startNode(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--log", "json", ...base, ...flags]);
      procs.push(server);
      await until(() => server.events().some((e) => e.event === "started"), {
        timeoutMs: 10000,
        what: server.out,
        abort: () => server.child.exitCode !== null,
      });
      await scenario(server, EXPECTED[level]);
      const events = server.events();
      assert.deepEqual([...new Set(events.map((e) => e.event))].sort(), [...EXPECTED[level]].sort(), server.out());
      for (const e of events) assert.equal(e.level, EVENT_LEVELS[e.event], JSON.stringify(e));
    });
  }

  it("--mode print writes each message at info (the default level)", async () => {
    const server = await startLwstcpServer(0, ["--key", KEY_HEX, "--mode", "print", "--log-level", "info"]);
    procs.push(server);
    const port = server.events().find((e) => e.event === "started")?.port as number;
    const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX });
    assert.equal((await client.connectToServer()).success, true);
    client.sendMessage("shown at info");
    await until(() => server.events().some((e) => e.event === "message"), { timeoutMs: 5000, what: "the printed message" });
    client.disconnect();
    assert.deepEqual(
      server
        .events()
        .filter((e) => e.event === "message")
        .map((e) => [e.level, e.text]),
      [["info", "shown at info"]],
    );
  });

  it("refuses --quiet together with --log-level, and an unknown level, in one line, exit 2", async () => {
    for (const [args, message] of [
      [["--quiet", "--log-level", "debug"], /^lwstcp-server: give --log-level or --quiet \(= --log-level warn\), not both \(see --help\)$/],
      [["--log-level", "verbose"], /^lwstcp-server: --log-level must be one of error, warn, info, debug, got 'verbose' \(see --help\)$/],
    ] as const) {
      const r = startNode(SERVER_CLI, ["--port", "0", "--key", KEY_HEX, ...args]);
      assert.equal(await within(r.exit, 10000, "exit"), 2);
      assert.match(r.out().trim(), message);
    }
  });

  it("under the systemd journal, starts each line with its syslog priority; elsewhere not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-journal-"));
    try {
      for (const journal of [true, false]) {
        const file = join(dir, "out-" + journal + ".log");
        const fd = openSync(file, "w");
        const stat = fstatSync(fd, { bigint: true });
        // systemd names the stream stdout is connected to; here the file plays the journal.
        const stream = journal ? stat.dev + ":" + stat.ino : stat.dev + ":" + (stat.ino + 1n);
        const child = spawn(process.execPath, [SERVER_CLI, "--port", "0", "--host", "127.0.0.1", "--key", KEY_HEX, "--log-level", "debug"], {
          env: { ...process.env, LWSTCP_KEY: "", JOURNAL_STREAM: stream },
          stdio: ["ignore", fd, "pipe"],
        });
        closeSync(fd);
        const exit = exited(child);
        await until(() => / started /.test(readFileSync(file, "utf8")), { timeoutMs: 10000, what: "started", abort: () => child.exitCode !== null });
        const port = Number(/ port=(\d+)/.exec(readFileSync(file, "utf8"))?.[1]);
        const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX });
        assert.equal((await client.connectToServer()).success, true);
        client.sendMessage("hello"); // not a number: an error line
        await until(() => / error /.test(readFileSync(file, "utf8")), { timeoutMs: 5000, what: "the error line" });
        client.disconnect();
        child.kill("SIGTERM");
        assert.equal(await within(exit, 10000, "exit"), 0);
        const lines = readFileSync(file, "utf8").trim().split("\n");
        const prefixOf = (event: string) => lines.find((l) => new RegExp("Z " + event + "( |$)").test(l))?.replace(/\d{4}-.*$/, "");
        if (journal) {
          assert.equal(prefixOf("started"), "<6>", lines.join("\n"));
          assert.equal(prefixOf("handshake-started"), "<7>");
          assert.equal(prefixOf("error"), "<3>");
          assert.ok(
            lines.every((l) => /^<[3467]>\d{4}-/.test(l)),
            lines.join("\n"),
          );
        } else {
          assert.ok(
            lines.every((l) => /^\d{4}-/.test(l)),
            lines.join("\n"),
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("docs/FLEET.md's level table is the one the server uses", () => {
    const doc = readFileSync("docs/FLEET.md", "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| (error|warn|info|debug) \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(Object.fromEntries(rows), EVENT_LEVELS);
  });
});
