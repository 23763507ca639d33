// startMqttBridge against a real Mosquitto broker, with MQTT.js as the subscriber: device
// messages published with their exact bytes, down messages delivered to a desktop client and to
// a simulated board running the firmware bundle, retained status (and a reconnecting device's
// old session not marking it offline), escaped device names, refused down payloads, and a broker
// that dies and comes back while the sessions keep running.
//
// Until v2 device ids reach this branch, tests that need a chosen device name set
// session.deviceId in the server's handshakeSuccess listener, which runs before the bridge
// sees the session, as the identity code will.

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import {
  deviceTopicLevel,
  type LightweightSecureClient,
  type LightweightSecureServer,
  MAX_MESSAGE_LENGTH,
  type MqttBridge,
  type MqttBridgeOptions,
  type Session,
  startMqttBridge,
} from "../server/index.js";
import type { LogFields } from "../server/log.js";
import { type Broker, requireMosquitto, type Subscriber, startMosquitto, subscriber } from "./helpers/mosquitto.js";
import { testBytes } from "./helpers/seed.js";
import { KEY_HEX, newClient, next, startServer, until, within } from "./helpers/server.js";

const FAST_RECONNECT = { initialDelayMs: 100, maxDelayMs: 500 };

describe("deviceTopicLevel: a device name as one MQTT topic level", () => {
  it("keeps ordinary names as they are and percent-escapes /, +, #, %, a leading $ and control characters", () => {
    const cases: Array<[string, string | undefined]> = [
      ["kitchen-1", "kitchen-1"],
      ["192.168.1.20:51234", "192.168.1.20:51234"],
      ["::ffff:127.0.0.1:4000", "::ffff:127.0.0.1:4000"],
      ["a/b", "a%2Fb"],
      ["+", "%2B"],
      ["#", "%23"],
      ["$server", "%24server"],
      ["a$b", "a$b"],
      ["50%", "50%25"],
      ["%2F", "%252F"],
      ["tab\there", "tab%09here"],
      ["", undefined],
    ];
    for (const [name, level] of cases) assert.equal(deviceTopicLevel(name), level, JSON.stringify(name));
  });

  it("gives distinct names distinct levels, none with a separator or wildcard, none starting with $", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii" }), fc.string({ unit: "binary-ascii" }), (a, b) => {
        for (const name of [a, b]) {
          const level = deviceTopicLevel(name);
          if (name === "") assert.equal(level, undefined);
          else assert.ok(level !== undefined && !/[/+#]/.test(level) && !level.startsWith("$"), JSON.stringify([name, level]));
        }
        if (a !== b && a !== "" && b !== "") assert.notEqual(deviceTopicLevel(a), deviceTopicLevel(b));
      }),
    );
  });
});

describe("MQTT bridge (startMqttBridge) with a real Mosquitto", function () {
  this.timeout(30000);
  let broker: Broker;
  const servers: LightweightSecureServer[] = [];
  const bridges: MqttBridge[] = [];
  const clients: LightweightSecureClient[] = [];
  const subscribers: Subscriber[] = [];
  let logged: Array<{ event: string } & LogFields> = [];
  let prefixCount = 0;
  let prefix = "";

  before(async function () {
    requireMosquitto(this);
    broker = await startMosquitto();
  });
  after(async () => {
    await broker?.stop();
  });
  beforeEach(() => {
    logged = [];
    prefix = "bridge-test-" + ++prefixCount;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
    for (const b of bridges.splice(0)) await b.stop();
    for (const s of servers.splice(0)) await s.stop();
    for (const s of subscribers.splice(0)) await s.end();
  });

  async function bridged(options: Partial<MqttBridgeOptions> = {}, url = broker.url): Promise<{ server: LightweightSecureServer; bridge: MqttBridge }> {
    const server = await startServer();
    servers.push(server);
    const bridge = await startMqttBridge(server, {
      url,
      prefix,
      name: "test-server",
      reconnect: FAST_RECONNECT,
      log: (event, fields = {}) => logged.push({ event, ...fields }),
      ...options,
    });
    bridges.push(bridge);
    await until(() => bridge.connected, { timeoutMs: 10000, what: "the bridge connects to the broker" });
    return { server, bridge };
  }

  async function device(server: LightweightSecureServer): Promise<{ client: LightweightSecureClient; session: Session }> {
    const client = newClient(server);
    clients.push(client);
    const opened = next<[Session]>(server, "session");
    assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
    const [session] = await opened;
    return { client, session };
  }

  async function watch(topics: string[] = [prefix + "/#"]): Promise<Subscriber> {
    const s = await subscriber(broker.url, topics);
    subscribers.push(s);
    return s;
  }

  it("publishes each device message to <prefix>/<device>/up with its exact bytes, text and binary", async () => {
    const { server, bridge } = await bridged();
    const sub = await watch();
    const { client, session } = await device(server);
    const up = prefix + "/" + session.peer + "/up";
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const largest = testBytes(MAX_MESSAGE_LENGTH);
    const sent = [Buffer.from("héllo, broker"), everyByte, largest, Buffer.of(0)];
    for (const message of sent) client.sendMessage(message);
    await until(() => sub.messages.filter((m) => m.topic === up).length === sent.length, { timeoutMs: 10000, what: "all messages on " + up });
    assert.deepEqual(
      sub.messages.filter((m) => m.topic === up).map((m) => m.payload),
      sent,
    );
    assert.equal(bridge.stats.published, sent.length);
    assert.equal(bridge.stats.dropped, 0);
  });

  it("sends what is published on <prefix>/<device>/down to that device: a desktop client and a board running the firmware bundle", async () => {
    const { server, bridge } = await bridged();
    const sub = await watch();
    const { client, session } = await device(server);
    const command = Buffer.concat([Buffer.from("set "), testBytes(300)]);
    const received = next<[string, Buffer]>(client, "message", 10000);
    await sub.client.publishAsync(prefix + "/" + session.peer + "/down", command, { qos: 1 });
    assert.deepEqual((await received)[1], command);

    const dir = join("build", "test", "mqtt-bridge-board");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "app.js"),
      `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function (err) {
  if (err) { print("wifi failed " + err); return; }
  var client = new lw.LightweightSecureClient(cfg.host, cfg.port);
  client.setOnHandshakeSuccess(function () { client.sendMessage("board up"); });
  client.setOnMessageReceived(function (message) { print("command " + message); });
  client.connectToServer();
});
`,
    );
    let board: SimulatedDevice | undefined;
    try {
      const opened = next<[Session]>(server, "session", 30000);
      board = await startDevice({
        app: join(dir, "app.js"),
        config: { ssid: "lab", password: "secret", host: "127.0.0.1", port: server.port, key: KEY_HEX },
      });
      const [boardSession] = await opened;
      const boardTopic = prefix + "/" + boardSession.peer;
      const hello = await sub.waitFor(boardTopic + "/up");
      assert.equal(hello.payload.toString(), "board up");
      await sub.client.publishAsync(boardTopic + "/down", "led on", { qos: 1 });
      await board.waitForConsole("command led on", 10000);
      assert.equal(bridge.stats.delivered, 2);
    } finally {
      board?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps <prefix>/<device>/status retained for late subscribers; a reconnecting device's old session ending leaves it online", async () => {
    const { server } = await bridged();
    server.on("handshakeSuccess", (_result, session: Session) => {
      session.deviceId = "kitchen-1";
    });
    const early = await watch();
    const status = prefix + "/kitchen-1/status";
    const first = await device(server);
    await early.waitFor(status, (m) => m.payload.toString() === "online");
    const late = await watch();
    const retained = await late.waitFor(status);
    assert.deepEqual([retained.payload.toString(), retained.retain], ["online", true]);

    // The device comes back on a new connection before the old one is gone, then the old one ends.
    const second = await device(server);
    await until(() => early.texts(status).length === 2, { timeoutMs: 10000, what: "the second online" });
    const firstEnded = next(first.session, "ended");
    await first.client.disconnect();
    await firstEnded;
    // The newest session holds the name: a command reaches it, and what it sends comes after.
    const command = next<[string]>(second.client, "message", 10000);
    await early.client.publishAsync(prefix + "/kitchen-1/down", "still here?", { qos: 1 });
    assert.equal((await command)[0], "still here?");
    second.client.sendMessage("yes");
    await early.waitFor(prefix + "/kitchen-1/up");
    assert.deepEqual(early.texts(status), ["online", "online"]);
    const afterOldEnded = await watch();
    assert.equal((await afterOldEnded.waitFor(status)).payload.toString(), "online");

    await second.client.disconnect();
    await early.waitFor(status, (m) => m.payload.toString() === "offline");
    const latest = await watch();
    const gone = await latest.waitFor(status);
    assert.deepEqual([gone.payload.toString(), gone.retain], ["offline", true]);
  });

  it("escapes MQTT-special characters in device names both ways, and refuses an empty name with a log line", async () => {
    const { server, bridge } = await bridged();
    const names = ["hall/lamp+1#", "$server", ""];
    let named = 0;
    server.on("handshakeSuccess", (_result, session: Session) => {
      session.deviceId = names[named++];
    });
    const sub = await watch();
    const slashy = await device(server);
    const dollar = await device(server);
    const empty = await device(server);
    slashy.client.sendMessage("from slashy");
    dollar.client.sendMessage("from dollar");
    await sub.waitFor(prefix + "/hall%2Flamp%2B1%23/up", (m) => m.payload.toString() === "from slashy");
    await sub.waitFor(prefix + "/%24server/up", (m) => m.payload.toString() === "from dollar");
    const command = next<[string]>(slashy.client, "message", 10000);
    await sub.client.publishAsync(prefix + "/hall%2Flamp%2B1%23/down", "lamp on", { qos: 1 });
    assert.equal((await command)[0], "lamp on");
    assert.ok(
      logged.some((l) => l.event === "mqtt-refused-name" && l.peer === empty.session.peer),
      JSON.stringify(logged),
    );
    // The refused session still runs; it is just not bridged.
    const echoed = next<[string]>(empty.client, "message");
    empty.session.setOnMessageReceived((text) => empty.session.sendMessage(text));
    empty.client.sendMessage("unbridged");
    assert.equal((await echoed)[0], "unbridged");
    assert.equal(bridge.stats.published, 2);
    assert.equal(bridge.stats.dropped, 0);
    // Only the server's own status lives under $server; the device's is escaped beside it.
    assert.ok(sub.messages.every((m) => !m.topic.startsWith(prefix + "/$server/") || m.topic === prefix + "/$server/test-server"));
  });

  it("bridges the sessions already open when it starts, and on stop() marks them and the server offline", async () => {
    const server = await startServer();
    servers.push(server);
    const { client, session } = await device(server);
    const sub = await watch();
    const bridge = await startMqttBridge(server, { url: broker.url, prefix, name: "late-bridge", reconnect: FAST_RECONNECT });
    bridges.push(bridge);
    const status = prefix + "/" + session.peer + "/status";
    await sub.waitFor(status, (m) => m.payload.toString() === "online");
    client.sendMessage("already here");
    await sub.waitFor(prefix + "/" + session.peer + "/up", (m) => m.payload.toString() === "already here");
    await bridge.stop();
    await sub.waitFor(status, (m) => m.payload.toString() === "offline");
    await sub.waitFor(prefix + "/$server/late-bridge", (m) => m.payload.toString() === "offline");
    assert.equal(session.isActive, true, "the session goes on without the bridge");
  });

  it("drops empty and oversized down messages with a log line, ignores other servers' devices, and keeps the session", async () => {
    const { server, bridge } = await bridged();
    const sub = await watch();
    const { client, session } = await device(server);
    const down = prefix + "/" + session.peer + "/down";
    await sub.client.publishAsync(down, Buffer.alloc(0), { qos: 1 });
    await sub.client.publishAsync(down, Buffer.alloc(MAX_MESSAGE_LENGTH + 1, 7), { qos: 1 });
    await sub.client.publishAsync(prefix + "/10.0.0.9:4000/down", "for someone else", { qos: 1 });
    await until(() => bridge.stats.rejected === 2 && bridge.stats.ignored === 1, {
      timeoutMs: 10000,
      what: () => "two refusals and one ignored: " + JSON.stringify(bridge.stats),
    });
    const reasons = logged.filter((l) => l.event === "mqtt-down-dropped").map((l) => [l.device, l.bytes, l.reason]);
    assert.deepEqual(reasons, [
      [session.peer, 0, "empty message"],
      [session.peer, MAX_MESSAGE_LENGTH + 1, "longer than 65528 bytes"],
    ]);
    const largest = Buffer.alloc(MAX_MESSAGE_LENGTH, 9);
    const received = next<[string, Buffer]>(client, "message", 10000);
    await sub.client.publishAsync(down, largest, { qos: 1 });
    assert.deepEqual((await received)[1], largest);
    assert.equal(session.isActive, true);
  });

  it("delivers a retained down message once, not again when the bridge reconnects and the broker replays it", async () => {
    const { server, bridge } = await bridged();
    const sub = await watch();
    const { client, session } = await device(server);
    const down = prefix + "/" + session.peer + "/down";
    const received = next<[string]>(client, "message", 10000);
    await sub.client.publishAsync(down, "retained command", { qos: 1, retain: true });
    assert.equal((await received)[0], "retained command");
    // Another client taking the bridge's client id makes the broker drop the bridge, which reconnects and subscribes again.
    const usurper = await subscriber(broker.url, [], { clientId: "lwstcp-test-server", reconnectPeriod: 0 });
    await usurper.end();
    await until(() => bridge.stats.rejected === 1 && logged.filter((l) => l.event === "mqtt-connected").length === 2, {
      timeoutMs: 10000,
      what: () => "a reconnect and one refusal: " + JSON.stringify(logged),
    });
    const refused = logged.find((l) => l.event === "mqtt-down-dropped");
    assert.deepEqual([refused?.device, refused?.reason], [session.peer, "retained down messages are not delivered"]);
    await sub.client.publishAsync(down, Buffer.alloc(0), { qos: 1, retain: true });
    assert.equal(bridge.stats.delivered, 1);
  });

  it("drops up-messages instead of buffering without bound when the broker stops reading, and carries on when it reads again", async () => {
    const own = await startMosquitto();
    try {
      const { server, bridge } = await bridged({}, own.url);
      const heavy = await device(server);
      const marker = await device(server);
      const markerUp = prefix + "/" + marker.session.peer + "/up";
      const sub = await subscriber(own.url, [markerUp]);
      subscribers.push(sub);
      own.pause();
      const large = Buffer.alloc(MAX_MESSAGE_LENGTH, 1);
      for (let sent = 0; bridge.stats.dropped === 0 && sent < 2000; sent++) {
        if (!heavy.client.sendMessage(large)) await next(heavy.client, "drain", 10000);
      }
      await until(() => bridge.stats.dropped > 0, { timeoutMs: 10000, what: () => "drops while the broker is frozen: " + JSON.stringify(bridge.stats) });
      assert.ok(bridge.connected, "a frozen broker is still connected (keep-alive has not run out)");
      assert.equal(heavy.session.isActive, true);
      own.resume();
      // Once the backlog drains below the bound, messages go up again: the marker device keeps
      // sending until one of its messages arrives.
      const sender = setInterval(() => marker.client.sendMessage("still bridged"), 50);
      try {
        await until(() => sub.messages.length > 0, { timeoutMs: 20000, what: "a message up after the broker reads again" });
      } finally {
        clearInterval(sender);
      }
    } finally {
      for (const s of subscribers.splice(0)) await s.end();
      own.resume();
      await own.stop();
    }
  });

  it("rides out a broker restart: sessions keep running, up-messages meanwhile are counted as dropped, both ways resume", async () => {
    const own = await startMosquitto();
    try {
      const { server, bridge } = await bridged({}, own.url);
      server.on("session", (session: Session) => session.on("message", (text: string) => session.sendMessage("echo " + text)));
      const { client, session } = await device(server);
      const topic = prefix + "/" + session.peer;
      const before = await subscriber(own.url, [prefix + "/#"]);
      subscribers.push(before);
      const beforeEcho = next<[string]>(client, "message");
      client.sendMessage("before");
      await before.waitFor(topic + "/up");
      await beforeEcho;

      await own.kill();
      await until(() => !bridge.connected && logged.some((l) => l.event === "mqtt-disconnected"), { timeoutMs: 10000, what: "the bridge notices" });
      for (const text of ["away 1", "away 2", "away 3"]) {
        const echo = next<[string]>(client, "message");
        client.sendMessage(text);
        assert.equal((await echo)[0], "echo " + text, "the session keeps running without the broker");
      }
      assert.equal(bridge.stats.dropped, 3);

      await own.restart();
      await until(() => bridge.connected, { timeoutMs: 15000, what: "the bridge reconnects" });
      const connects = logged.filter((l) => l.event === "mqtt-connected");
      assert.equal(connects.length, 2);
      assert.equal(connects[1].dropped, 3);
      const after = await subscriber(own.url, [prefix + "/#"]);
      subscribers.push(after);
      // The restarted broker kept nothing; the bridge said again who is online.
      assert.equal((await after.waitFor(topic + "/status")).payload.toString(), "online");
      assert.equal((await after.waitFor(prefix + "/$server/test-server")).payload.toString(), "online");
      const afterEcho = next<[string]>(client, "message");
      client.sendMessage("after");
      await after.waitFor(topic + "/up", (m) => m.payload.toString() === "after");
      await afterEcho;
      const command = next<[string]>(client, "message", 10000);
      await after.client.publishAsync(topic + "/down", "welcome back", { qos: 1 });
      assert.equal((await command)[0], "welcome back");
      assert.deepEqual(
        after.messages.filter((m) => m.topic === topic + "/up").map((m) => m.payload.toString()),
        ["after"],
        "messages from while the broker was away are not replayed",
      );
      assert.equal(session.isActive, true);
    } finally {
      for (const s of subscribers.splice(0)) await s.end();
      await own.stop();
    }
  });
});
