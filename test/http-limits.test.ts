// The live view cannot be turned against the protocol side: a flood of HTTP connections and
// slowloris clients (a request head dripped a byte at a time) hit the view's own limits while
// desktop clients and a simulated board still handshake and exchange with the same process; the
// slow clients are closed by the view's header timeout. And two servers in one process keep
// their metrics apart (a registry each).

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import { LightweightSecureClient, type LightweightSecureServer, type Monitor, startMonitor } from "../server/index.js";
import { getJson, HELLO_APP, helloConfig, sample, scrape, startMonitoredServer } from "./helpers/http.js";
import type { Proc } from "./helpers/processes.js";
import { KEY_HEX, startServer, until } from "./helpers/server.js";

const DIR = join("build", "test", "http-limits");

/** A connection that sends a request head one byte every `dripMs` and never finishes it. */
function slowloris(port: number, dripMs: number): { socket: Socket; closed: () => boolean } {
  const head = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000);
  let sent = 0;
  let closed = false;
  const socket = connect(port, "127.0.0.1");
  const timer = setInterval(() => {
    if (!socket.destroyed && sent < head.length) socket.write(head[sent++]);
  }, dripMs);
  socket.on("error", () => {});
  socket.on("close", () => {
    closed = true;
    clearInterval(timer);
  });
  return { socket, closed: () => closed };
}

describe("lwstcp-server --http limits: HTTP floods and slow clients cost the protocol side nothing", function () {
  this.timeout(30000);
  const procs: Proc[] = [];
  const clients: LightweightSecureClient[] = [];
  const sockets: Socket[] = [];
  const devices: SimulatedDevice[] = [];
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), HELLO_APP);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const d of devices.splice(0)) d.stop();
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  });
  after(() => rmSync(DIR, { recursive: true, force: true }));

  it("200 slowloris connections: those over the cap of 64 are closed at once, the rest at the header timeout, and sessions handshake and exchange meanwhile", async () => {
    const { proc, port, base, httpPort } = await startMonitoredServer(["--key", KEY_HEX, "--mode", "echo", "--stats-interval", "0"]);
    procs.push(proc);
    const slow = Array.from({ length: 200 }, () => slowloris(httpPort, 200));
    sockets.push(...slow.map((s) => s.socket));
    const closedCount = () => slow.filter((s) => s.closed()).length;
    await until(() => closedCount() >= 200 - 64, { timeoutMs: 10000, what: () => "the connections over the cap closed (" + closedCount() + " of 200 closed)" });
    // Keep the view full: a slow connection the header timeout closes is replaced at once.
    let refilling = true;
    const refills: Array<{ socket: Socket; closed: () => boolean }> = [];
    const refill = setInterval(() => {
      const open = [...slow, ...refills].filter((s) => !s.closed()).length;
      for (let i = open; refilling && i < 64; i++) {
        const again = slowloris(httpPort, 200);
        refills.push(again);
        sockets.push(again.socket);
      }
    }, 100);
    // While the view is full of slow clients, the protocol side serves as ever.
    const echoes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX });
      clients.push(client);
      client.setOnMessageReceived((text) => echoes.push(text));
      const result = await client.connectToServer();
      assert.equal(result.success, true, result.errorMessage);
      client.sendMessage("client " + i);
    }
    await until(() => echoes.length === 5, { what: () => "5 echoes, got " + JSON.stringify(echoes) });
    const board = await startDevice({ app: join(DIR, "app.js"), config: helloConfig(port, KEY_HEX, "board") });
    devices.push(board);
    await board.waitForConsole("got board");
    const heldOpen = [...slow, ...refills].filter((s) => !s.closed()).length;
    assert.ok(heldOpen > 0 && heldOpen <= 64, heldOpen + " slow connections held open");

    // The header timeout (5 s) ends the slow clients, though each still drips bytes.
    refilling = false;
    clearInterval(refill);
    const all = [...slow, ...refills];
    await until(() => all.every((s) => s.closed()), {
      timeoutMs: 15000,
      what: () => "every slow connection closed (" + all.filter((s) => s.closed()).length + " of " + all.length + ")",
    });
    const samples = await scrape(base);
    assert.equal(sample(samples, "lwstcp_sessions_open", { profile: "v1" }), 6);
    assert.equal(sample(samples, "lwstcp_messages_received_total"), 6);
    assert.equal((await getJson(base + "devices")).json.count, 6);
    assert.equal(proc.child.exitCode, null);
  });

  it("lists 300 sessions, more than one slice of /devices, as one JSON document with every session once", async () => {
    const server = await startServer();
    const monitor = await startMonitor(server);
    try {
      for (let i = 0; i < 300; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const client = new LightweightSecureClient("127.0.0.1", server.port, { key: KEY_HEX });
            clients.push(client);
            assert.equal((await client.connectToServer()).success, true);
          }),
        );
      }
      await until(() => server.sessionCount === 300, { what: "300 sessions" });
      const { status, json } = await getJson(monitor.url + "devices");
      assert.equal(status, 200);
      assert.equal(json.count, 300);
      assert.equal(new Set(json.devices.map((d: { peer: string }) => d.peer)).size, 300);
      assert.deepEqual(new Set(json.devices.map((d: { peer: string }) => d.peer)), new Set(server.sessions.map((s) => s.peer)));
    } finally {
      await monitor.close();
      await Promise.all(clients.splice(0).map((c) => c.disconnect()));
      await server.stop();
    }
  });

  it("two servers in one process: each monitor counts only its own server, on a registry of its own", async () => {
    const servers: LightweightSecureServer[] = [await startServer(), await startServer()];
    const monitors: Monitor[] = [];
    try {
      for (const server of servers) monitors.push(await startMonitor(server, { host: "127.0.0.1", port: 0 }));
      assert.notEqual(monitors[0].metrics.registry, monitors[1].metrics.registry);
      const client = new LightweightSecureClient("127.0.0.1", servers[1].port, { key: KEY_HEX });
      clients.push(client);
      assert.equal((await client.connectToServer()).success, true);
      client.sendMessage("to the second");
      await until(() => servers[1].sessions.some((s) => s.messagesIn === 1), { what: "the message at the second server" });
      const [first, second] = [await scrape(monitors[0].url), await scrape(monitors[1].url)];
      assert.equal(sample(first, "lwstcp_sessions_open", { profile: "v1" }), 0);
      assert.equal(sample(first, "lwstcp_messages_received_total"), 0);
      assert.equal(sample(second, "lwstcp_sessions_open", { profile: "v1" }), 1);
      assert.equal(sample(second, "lwstcp_messages_received_total"), 1);
      assert.equal(sample(second, "lwstcp_message_bytes_received_total"), "to the second".length);
      // Both registries carry the process metrics, each its own copy.
      assert.ok(sample(first, "process_resident_memory_bytes") !== undefined);
      assert.ok(sample(second, "process_resident_memory_bytes") !== undefined);
    } finally {
      for (const monitor of monitors) await monitor.close();
      for (const server of servers) await server.stop();
    }
  });
});
