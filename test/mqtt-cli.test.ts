// lwstcp-server --mqtt as spawned processes against a real Mosquitto: the server's retained
// status and its will when the process is killed, a clean offline on SIGTERM, two servers on one
// broker each delivering to the devices they hold, --mode none and fizzbuzz combined with the
// bridge, a broker with a password, and the flags' usage errors.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fizzBuzzReply, type LightweightSecureClient } from "../server/index.js";
import { type Broker, hasMosquittoPasswd, requireMosquitto, type Subscriber, startMosquitto, subscriber } from "./helpers/mosquitto.js";
import { type Proc, SERVER_CLI, startLwstcpServer, stopAfterEach } from "./helpers/processes.js";
import { KEY_HEX, newClient, next, until, within } from "./helpers/server.js";

const KEY = ["--key", KEY_HEX];

describe("lwstcp-server --mqtt with a real Mosquitto", function () {
  this.timeout(30000);
  let broker: Broker;
  const { procs } = stopAfterEach();
  const clients: LightweightSecureClient[] = [];
  const subscribers: Subscriber[] = [];
  let dir = "";

  before(async function () {
    requireMosquitto(this);
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), "lwstcp-mqtt-cli-"));
  });
  after(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
    for (const s of subscribers.splice(0)) await s.end();
  });

  async function server(args: string[]): Promise<Proc> {
    const proc = await startLwstcpServer(0, [...KEY, "--mqtt", broker.url, ...args]);
    procs.push(proc);
    await until(() => proc.events().some((e) => e.event === "mqtt-connected"), {
      timeoutMs: 10000,
      what: () => "the server's bridge connects: " + proc.out(),
    });
    return proc;
  }

  function portOf(proc: Proc): number {
    return proc.events().find((e) => e.event === "started")?.port;
  }

  async function watch(url: string, topics: string[]): Promise<Subscriber> {
    const s = await subscriber(url, topics);
    subscribers.push(s);
    return s;
  }

  /** A desktop client connected to `port`, and its device level, from the status topic it brought online. */
  async function device(port: number, sub: Subscriber, prefix: string): Promise<{ client: LightweightSecureClient; level: string }> {
    const known = new Set(sub.messages.map((m) => m.topic));
    const client = newClient(port);
    clients.push(client);
    assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
    const statusTopic = /^[^/]+\/([^/$][^/]*)\/status$/;
    await until(() => sub.messages.some((m) => !known.has(m.topic) && statusTopic.test(m.topic) && m.topic.startsWith(prefix + "/")), {
      timeoutMs: 10000,
      what: "the new device's online status",
    });
    const topic = sub.messages.find((m) => !known.has(m.topic) && statusTopic.test(m.topic))?.topic as string;
    return { client, level: (statusTopic.exec(topic) as RegExpExecArray)[1] };
  }

  it("keeps <prefix>/$server/<name> retained online, and the broker publishes the will (offline) when the process is killed", async () => {
    const sub = await watch(broker.url, ["kill-test/#"]);
    const proc = await server(["--mqtt-prefix", "kill-test", "--mqtt-name", "doomed", "--mode", "echo"]);
    const status = "kill-test/$server/doomed";
    await sub.waitFor(status, (m) => m.payload.toString() === "online");
    const late = await watch(broker.url, [status]);
    const retained = await late.waitFor(status);
    assert.deepEqual([retained.payload.toString(), retained.retain], ["online", true]);
    proc.child.kill("SIGKILL");
    await sub.waitFor(status, (m) => m.payload.toString() === "offline");
    const afterDeath = await watch(broker.url, [status]);
    const will = await afterDeath.waitFor(status);
    assert.deepEqual([will.payload.toString(), will.retain], ["offline", true]);
  });

  it("on SIGTERM marks its devices and itself offline, then exits 0", async () => {
    const sub = await watch(broker.url, ["term-test/#"]);
    const proc = await server(["--mqtt-prefix", "term-test", "--mqtt-name", "tidy", "--mode", "echo"]);
    const { level } = await device(portOf(proc), sub, "term-test");
    proc.child.kill("SIGTERM");
    assert.equal(await proc.exit, 0, proc.out());
    await sub.waitFor("term-test/" + level + "/status", (m) => m.payload.toString() === "offline");
    await sub.waitFor("term-test/$server/tidy", (m) => m.payload.toString() === "offline");
    const order = sub.messages.filter((m) => m.payload.toString() === "offline").map((m) => m.topic);
    assert.deepEqual(order, ["term-test/" + level + "/status", "term-test/$server/tidy"]);
  });

  it("two servers on one broker: a down message reaches its device whichever server holds it; --mode none and fizzbuzz still answer as they do", async () => {
    const sub = await watch(broker.url, ["fleet/#"]);
    const quiet = await server(["--mqtt-prefix", "fleet", "--mqtt-name", "quiet", "--mode", "none"]);
    const fizz = await server(["--mqtt-prefix", "fleet", "--mqtt-name", "fizz"]);
    const onQuiet = await device(portOf(quiet), sub, "fleet");
    const onFizz = await device(portOf(fizz), sub, "fleet");
    assert.notEqual(onQuiet.level, onFizz.level);

    // fizzbuzz replies and bridges: the reply comes back, the message goes up.
    const reply = next<[string]>(onFizz.client, "message", 10000);
    onFizz.client.sendMessage("14");
    assert.equal((await reply)[0], fizzBuzzReply("14"));
    await sub.waitFor("fleet/" + onFizz.level + "/up", (m) => m.payload.toString() === "14");

    // --mode none only bridges: once the message is up, the first thing the device hears is the command.
    const heard = next<[string]>(onQuiet.client, "message", 10000);
    onQuiet.client.sendMessage("ping");
    await sub.waitFor("fleet/" + onQuiet.level + "/up", (m) => m.payload.toString() === "ping");
    await sub.client.publishAsync("fleet/" + onQuiet.level + "/down", "for quiet's device", { qos: 1 });
    assert.equal((await heard)[0], "for quiet's device");

    const toFizz = next<[string]>(onFizz.client, "message", 10000);
    await sub.client.publishAsync("fleet/" + onFizz.level + "/down", "for fizz's device", { qos: 1 });
    assert.equal((await toFizz)[0], "for fizz's device");

    // Each command went to one device once: the other device heard nothing more.
    const more: string[] = [];
    onQuiet.client.on("message", (text: string) => more.push("quiet: " + text));
    onFizz.client.on("message", (text: string) => more.push("fizz: " + text));
    const marker = next<[string]>(onFizz.client, "message", 10000);
    onFizz.client.sendMessage("2");
    assert.equal((await marker)[0], fizzBuzzReply("2"));
    assert.deepEqual(more, ["fizz: " + fizzBuzzReply("2")]);
    for (const proc of [quiet, fizz]) assert.ok(!proc.events().some((e) => e.event === "mqtt-down-dropped" || e.event === "error"), proc.out());
  });

  it("logs in with --mqtt-username and --mqtt-password-file and never prints the password; a wrong one is logged and the sessions are unaffected", async function () {
    if (!hasMosquittoPasswd()) {
      console.log("    skipped: mosquitto_passwd is not installed");
      this.skip();
    }
    const secure = await startMosquitto({ users: { bridge: "s3cret-pass" } });
    try {
      const good = join(dir, "good-password");
      const bad = join(dir, "bad-password");
      writeFileSync(good, "s3cret-pass\n", { mode: 0o600 });
      writeFileSync(bad, "not-the-password\n", { mode: 0o600 });
      await assert.rejects(subscriber(secure.url, ["auth/#"], { reconnectPeriod: 0 }), /Not authorized/, "the broker refuses anonymous clients");
      const watcher = await subscriber(secure.url, ["auth/#"], { username: "bridge", password: "s3cret-pass" });
      subscribers.push(watcher);

      const loggingIn = async (name: string, passwordFile: string) => {
        const args = ["--mqtt", secure.url, "--mqtt-prefix", "auth", "--mqtt-name", name, "--mqtt-username", "bridge", "--mqtt-password-file", passwordFile];
        const proc = await startLwstcpServer(0, [...KEY, ...args]);
        procs.push(proc);
        return proc;
      };
      const proc = await loggingIn("ok", good);
      await watcher.waitFor("auth/$server/ok", (m) => m.payload.toString() === "online");

      const refused = await loggingIn("no", bad);
      await until(() => refused.events().some((e) => e.event === "mqtt-disconnected"), {
        timeoutMs: 10000,
        what: () => "the refusal is logged: " + refused.out(),
      });
      assert.match(refused.events().find((e) => e.event === "mqtt-disconnected")?.reason, /Not authorized|Bad username or password/);
      // Its protocol side works without the broker.
      const client = newClient(portOf(refused));
      clients.push(client);
      const reply = next<[string]>(client, "message", 10000);
      assert.equal((await within(client.connectToServer(), 5000, "handshake")).success, true);
      client.sendMessage("4");
      assert.equal((await reply)[0], fizzBuzzReply("4"));
      for (const p of [proc, refused]) assert.ok(!/s3cret-pass|not-the-password/.test(p.out()), p.out());
      assert.equal(refused.child.exitCode, null);
    } finally {
      await secure.stop();
    }
  });
});

describe("lwstcp-server --mqtt usage errors", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["a bridge flag without --mqtt", ["--mqtt-prefix", "x"], /--mqtt-prefix needs --mqtt URL/],
    ["not an mqtt URL", ["--mqtt", "http://127.0.0.1:1883"], /--mqtt must start with mqtt:\/\/ or mqtts:\/\//],
    ["credentials in the URL", ["--mqtt", "mqtt://user:hunter2@127.0.0.1:1883"], /--mqtt must not carry credentials/],
    ["a wildcard in the prefix", ["--mqtt", "mqtt://127.0.0.1:1", "--mqtt-prefix", "a/#"], /--mqtt-prefix must not contain the MQTT wildcards/],
    ["a / in the name", ["--mqtt", "mqtt://127.0.0.1:1", "--mqtt-name", "a/b"], /--mqtt-name must be one topic level/],
    ["a password without a username", ["--mqtt", "mqtt://127.0.0.1:1", "--mqtt-password-file", "x"], /--mqtt-password-file needs --mqtt-username/],
    [
      "a missing password file",
      ["--mqtt", "mqtt://127.0.0.1:1", "--mqtt-username", "u", "--mqtt-password-file", "/nonexistent/pw"],
      /--mqtt-password-file: cannot read \/nonexistent\/pw: ENOENT/,
    ],
    ["--workers", ["--mqtt", "mqtt://127.0.0.1:1", "--workers", "2"], /--mqtt does not combine with --workers/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one line, exit 2`, () => {
      const run = spawnSync(process.execPath, [SERVER_CLI, "--port", "0", "--host", "127.0.0.1", ...KEY, ...args], { encoding: "utf8", timeout: 10000 });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.ok(!run.stderr.includes("hunter2"));
    });
  }
});
