// lwstcp-server --http as a user runs it: a real server process, desktop clients and simulated
// boards (the firmware bundle on host-sim) connecting to it, and what /metrics, /devices and
// /devices/<name> then say; the answers to requests the view does not serve; --stats-interval's
// line; and the flags' errors (with --workers, a bad address, a port in use).

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import { LightweightSecureClient } from "../server/index.js";
import { getJson, HELLO_APP, helloConfig, httpRequest, rawExchange, type Sample, sample, scrape, startMonitoredServer } from "./helpers/http.js";
import { exited, type Proc, SERVER_CLI, startNode, until } from "./helpers/processes.js";
import { KEY_HEX, OTHER_KEY_HEX } from "./helpers/server.js";

const DIR = join("build", "test", "http-monitor");
async function connectedClient(port: number, options: { key?: string; profile?: "v1" | "v2"; keepAliveIntervalMs?: number } = {}) {
  const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX, ...options });
  const result = await client.connectToServer();
  return { client, result };
}

/** Sends each text and waits for its echo. */
async function exchange(client: LightweightSecureClient, texts: string[]): Promise<void> {
  const echoed: string[] = [];
  client.setOnMessageReceived((text) => echoed.push(text));
  for (const text of texts) client.sendMessage(text);
  await until(() => echoed.length === texts.length, { what: "the echoes of " + JSON.stringify(texts) });
  client.setOnMessageReceived(null);
}

async function waitForMetrics(base: string, what: string, holds: (samples: Sample[]) => boolean): Promise<Sample[]> {
  let last: Sample[] = [];
  const deadline = Date.now() + 10000;
  for (;;) {
    last = await scrape(base);
    if (holds(last)) return last;
    if (Date.now() > deadline) throw new Error("timed out waiting until /metrics shows " + what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("lwstcp-server --http: /metrics, /devices and /devices/<name> of a live server", function () {
  this.timeout(30000);
  const procs: Proc[] = [];
  const clients: LightweightSecureClient[] = [];
  const devices: SimulatedDevice[] = [];
  before(() => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), HELLO_APP);
  });
  afterEach(async () => {
    for (const d of devices.splice(0)) d.stop();
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  });
  after(() => rmSync(DIR, { recursive: true, force: true }));

  it("counts sessions, handshakes, messages and bytes of desktop clients and simulated boards, and keeps what ended sessions carried", async () => {
    const { proc, port, base } = await startMonitoredServer(["--key", KEY_HEX, "--mode", "echo", "--stats-interval", "0"]);
    procs.push(proc);
    const a = await connectedClient(port, { keepAliveIntervalMs: 100 });
    const b = await connectedClient(port);
    clients.push(a.client, b.client);
    assert.equal(a.result.success, true);
    await exchange(a.client, ["one", "two", "three"]);
    await exchange(b.client, ["four"]);
    const board = await startDevice({ app: join(DIR, "app.js"), config: helloConfig(port, KEY_HEX, "hello"), name: "board" });
    devices.push(board);
    await board.waitForConsole("got hello");

    const wrong = await connectedClient(port, { key: OTHER_KEY_HEX });
    clients.push(wrong.client);
    assert.equal(wrong.result.success, false);

    let samples = await waitForMetrics(base, "the failed handshake", (s) => sample(s, "lwstcp_handshakes_total", { result: "failure" }) === 1);
    assert.equal(sample(samples, "lwstcp_sessions_open", { profile: "v1" }), 3);
    assert.equal(sample(samples, "lwstcp_sessions_open", { profile: "v2" }), 0);
    assert.equal(sample(samples, "lwstcp_handshakes_total", { result: "success" }), 3);
    assert.equal(sample(samples, "lwstcp_handshakes_total", { result: "failure", reason: "verify-failed" }), 1);
    assert.equal(sample(samples, "lwstcp_messages_received_total"), 5);
    assert.equal(sample(samples, "lwstcp_messages_sent_total"), 5);
    const bytes = "one".length + "two".length + "three".length + "four".length + "hello".length;
    assert.equal(sample(samples, "lwstcp_message_bytes_received_total"), bytes);
    assert.equal(sample(samples, "lwstcp_message_bytes_sent_total"), bytes);
    assert.equal(sample(samples, "lwstcp_handshake_duration_seconds_count", { profile: "v1" }), 3);
    assert.equal(sample(samples, "lwstcp_handshake_duration_seconds_bucket", { profile: "v1", le: "+Inf" }), 3);
    assert.ok((sample(samples, "process_cpu_seconds_total") ?? 0) > 0, "the default process metrics are there");
    assert.ok(sample(samples, "nodejs_heap_size_used_bytes") !== undefined);
    // Left out: each walks every socket of the process at every scrape.
    assert.equal(sample(samples, "nodejs_active_handles_total"), undefined);
    assert.equal(sample(samples, "process_open_fds"), undefined);

    const { status, json } = await getJson(base + "devices");
    assert.equal(status, 200);
    assert.equal(json.count, 3);
    assert.equal(json.devices.length, 3);
    const now = Date.parse(json.now);
    for (const entry of json.devices) {
      assert.equal(entry.id, null, "v1 carries no device id");
      assert.equal(entry.name, entry.peer, "a v1 device is named by its peer address");
      assert.equal(entry.profile, "v1");
      assert.equal(entry.remoteAddress, "127.0.0.1");
      assert.equal(entry.peer, "127.0.0.1:" + entry.remotePort);
      assert.ok(Date.parse(entry.connectedSince) <= Date.parse(entry.lastSeen), JSON.stringify(entry));
      assert.ok(Date.parse(entry.lastSeen) <= now, JSON.stringify(entry));
    }
    const byTraffic = json.devices.map((d: any) => [d.messagesIn, d.bytesIn, d.messagesOut, d.bytesOut]).sort((x: number[], y: number[]) => y[1] - x[1]);
    assert.deepEqual(byTraffic, [
      [3, 11, 3, 11],
      [1, 5, 1, 5],
      [1, 4, 1, 4],
    ]);

    // Last seen counts every packet: a's KeepAlives move it while its message count stays.
    const busiest = json.devices.find((d: any) => d.messagesIn === 3);
    const name = encodeURIComponent(busiest.name);
    let later: any = busiest;
    const deadline = Date.now() + 5000;
    while (later.lastSeen === busiest.lastSeen && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      later = (await getJson(base + "devices/" + name)).json;
    }
    assert.ok(Date.parse(later.lastSeen) > Date.parse(busiest.lastSeen), "KeepAlives move lastSeen");
    assert.equal(later.messagesIn, 3);
    assert.equal(later.name, busiest.name);

    // A session that ends leaves the gauge and /devices, and its messages stay counted.
    await a.client.disconnect();
    samples = await waitForMetrics(base, "the ended session", (s) => sample(s, "lwstcp_sessions_open", { profile: "v1" }) === 2);
    assert.equal(sample(samples, "lwstcp_sessions_ended_total"), 1);
    assert.equal(sample(samples, "lwstcp_session_duration_seconds_count", { profile: "v1" }), 1);
    assert.equal(sample(samples, "lwstcp_messages_received_total"), 5);
    assert.equal(sample(samples, "lwstcp_message_bytes_sent_total"), bytes);
    const gone = await getJson(base + "devices/" + name);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.name, busiest.name);
    assert.match(gone.json.error, /no open session/);
    assert.equal((await getJson(base + "devices")).json.count, 2);
  });

  it("counts refused connections by reason, and v2 sessions under their profile", async () => {
    const { proc, port, base } = await startMonitoredServer(["--key", KEY_HEX, "--profile", "v2", "--max-sessions", "1", "--stats-interval", "0"]);
    procs.push(proc);
    const first = await connectedClient(port, { profile: "v2" });
    clients.push(first.client);
    assert.equal(first.result.success, true);
    const second = await connectedClient(port, { profile: "v2" });
    clients.push(second.client);
    assert.equal(second.result.success, false);
    const samples = await waitForMetrics(base, "the refusal", (s) => sample(s, "lwstcp_refused_total", { reason: "session-limit" }) === 1);
    assert.equal(sample(samples, "lwstcp_sessions_open", { profile: "v2" }), 1);
    assert.equal(sample(samples, "lwstcp_sessions_open", { profile: "v1" }), 0);
    assert.equal(sample(samples, "lwstcp_handshake_duration_seconds_count", { profile: "v2" }), 1);
    const { json } = await getJson(base + "devices");
    assert.equal(json.devices.length, 1);
    assert.equal(json.devices[0].profile, "v2");
  });

  it("answers what it does not serve: 404 JSON, 405 for other methods, 413 for a body, 431 for an oversized head, 400 for bad encoding; HEAD has no body", async () => {
    const { proc, base, httpPort } = await startMonitoredServer(["--key", KEY_HEX, "--stats-interval", "0"]);
    procs.push(proc);
    const missing = await httpRequest(base + "nothing-here");
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error, /not found/);
    const unknown = await getJson(base + "devices/" + encodeURIComponent("kitchen 1"));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.name, "kitchen 1");
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const reply = await httpRequest(base + "devices", { method });
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.allow, "GET, HEAD");
    }
    const withBody = await httpRequest(base + "metrics", { headers: { "Content-Type": "text/plain", "Content-Length": "100" }, body: "x".repeat(100) });
    assert.equal(withBody.status, 413);
    const chunked = await rawExchange(httpPort, "GET /devices HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    const head = await httpRequest(base + "devices", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.match(String(head.headers["content-type"]), /application\/json/);
    const oversized = await rawExchange(httpPort, "GET /devices HTTP/1.1\r\nHost: x\r\nX-Padding: " + "a".repeat(16 * 1024) + "\r\n\r\n");
    assert.match(oversized, /^HTTP\/1\.1 431 /);
    const badEncoding = await httpRequest(base + "devices/%E0%A4%A");
    assert.equal(badEncoding.status, 400);
    const page = await httpRequest(base);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /text\/html/);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'sha256-/);
    assert.match(page.body, /<meta name="viewport"/);
  });

  it("--stats-interval logs the summary line: fields in --log json, one readable line in text", async () => {
    const { proc, port } = await startMonitoredServer(["--key", KEY_HEX, "--mode", "echo", "--stats-interval", "1"]);
    procs.push(proc);
    const a = await connectedClient(port);
    clients.push(a.client);
    await exchange(a.client, ["ping", "pong"]);
    // The handshake and the two messages fall into one interval or two: wait until both are counted.
    const statsEvents = () => proc.events().filter((e) => e.event === "stats");
    await until(() => statsEvents().some((e) => e.sessions === 1) && statsEvents().some((e) => e.msgsPerSecUp > 0), {
      timeoutMs: 8000,
      what: () => "stats events with the session and its messages: " + proc.out(),
    });
    const stats = statsEvents();
    const withSession = stats.find((e) => e.sessions === 1) as Record<string, any>;
    assert.deepEqual(Object.keys(withSession).sort(), [
      "event",
      "handshakesFailed",
      "handshakesPerMin",
      "level",
      "msgsPerSecDown",
      "msgsPerSecUp",
      "refused",
      "sessions",
      "t",
      "v1",
      "v2",
    ]);
    assert.equal(withSession.v1, 1);
    assert.equal(withSession.v2, 0);
    // The echoes went out as the messages came in: the same interval counts both ways.
    assert.ok(
      stats.some((e) => e.msgsPerSecUp > 0 && e.msgsPerSecDown > 0),
      JSON.stringify(stats),
    );
    assert.ok(
      stats.some((e) => e.handshakesPerMin > 0),
      JSON.stringify(stats),
    );

    const text = startNode(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--key", KEY_HEX, "--stats-interval", "1"]);
    procs.push(text);
    await until(() => /\bstats sessions/.test(text.out()), { timeoutMs: 5000, what: () => "a text stats line: " + text.out() });
    assert.match(text.out(), /^\S+ stats sessions 0 \(v1 0, v2 0\) · handshakes\/min 0 \(failed 0\) · msgs\/s up 0 down 0 · refused 0$/m);
  });

  it("refuses --http with --workers and a bad address with one line (exit 2), and a port in use with an error (exit 1)", async () => {
    const run = async (args: string[]) => {
      const proc = startNode(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--key", KEY_HEX, ...args]);
      procs.push(proc);
      return { status: await exited(proc.child), stderr: proc.out() };
    };
    const bad = ["abc", "127.0.0.1:70000", "host:", ":80", "1.2.3.4:5:6"];
    const [workers, stats, ...replies] = await Promise.all([
      run(["--http", "0", "--workers", "2"]),
      run(["--stats-interval", "-1"]),
      ...bad.map((address) => run(["--http", address])),
    ]);
    assert.equal(workers.status, 2);
    assert.equal(workers.stderr.trim().split("\n").length, 1, workers.stderr);
    assert.match(workers.stderr, /--http cannot be combined with --workers/);
    for (const [i, reply] of replies.entries()) {
      assert.equal(reply.status, 2, bad[i] + ": " + reply.stderr);
      assert.match(reply.stderr, /--http must be \[HOST:\]PORT/);
      assert.equal(reply.stderr.trim().split("\n").length, 1);
    }
    assert.equal(stats.status, 2);
    assert.match(stats.stderr, /--stats-interval/);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const takenPort = (taken.address() as { port: number }).port;
      const proc = startNode(SERVER_CLI, ["--port", "0", "--host", "127.0.0.1", "--key", KEY_HEX, "--log", "json", "--http", "127.0.0.1:" + takenPort]);
      procs.push(proc);
      assert.equal(await exited(proc.child), 1);
      const error = proc.events().find((e) => e.event === "error");
      assert.match(String(error?.reason), /cannot serve HTTP on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
