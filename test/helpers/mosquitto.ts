// A real Mosquitto broker for the MQTT tests: its own config in a temporary directory, a free port
// on 127.0.0.1 (never 1883, where Debian's package may have started the system broker), started
// and awaited until it accepts, killed and restarted on the same port when a test needs the
// broker to go away and come back. Where mosquitto is not installed the tests skip, saying so once.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { freePort } from "./host-sim.js";
import { until } from "./until.js";

const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto", "/opt/homebrew/sbin/mosquitto"];

/** The mosquitto executable (env MOSQUITTO overrides the search), or undefined when it is not installed. */
export function mosquittoPath(): string | undefined {
  const chosen = process.env.MOSQUITTO;
  if (chosen !== undefined && chosen !== "") return existsSync(chosen) ? chosen : undefined;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  const which = spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" });
  return which.status === 0 && which.stdout.trim() !== "" ? which.stdout.trim() : undefined;
}

/** Whether mosquitto_passwd (which makes the password file for BrokerOptions.users) is installed. */
export function hasMosquittoPasswd(): boolean {
  return spawnSync("mosquitto_passwd", ["-h"]).error === undefined;
}

let skipNoted = false;

/** Call in before(): skips the suite (one line, once per run) when mosquitto is absent. */
export function requireMosquitto(context: Mocha.Context): void {
  if (mosquittoPath()) return;
  const why = process.env.MOSQUITTO
    ? "MOSQUITTO=" + process.env.MOSQUITTO + " does not exist"
    : "mosquitto is not installed (apt-get install mosquitto; .ci/run does this)";
  if (!skipNoted) console.log("    MQTT tests skipped: " + why);
  skipNoted = true;
  context.skip();
}

export interface Broker {
  port: number;
  url: string;
  /** Everything mosquitto printed so far. */
  out(): string;
  /** Kills the broker (SIGKILL: it goes away as a crashed broker would) and waits for its exit. */
  kill(): Promise<void>;
  /** Freezes the broker (SIGSTOP): connections stay open but nothing is read, as with a broker that hangs. */
  pause(): void;
  /** Lets a paused broker run again (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port and waits until it accepts. */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

export interface BrokerOptions {
  /** username → password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startMosquitto(options: BrokerOptions = {}): Promise<Broker> {
  const executable = mosquittoPath();
  if (!executable) throw new Error("mosquitto is not installed");
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-mosquitto-"));
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, "persistence false", "log_dest stdout", "log_type error", "log_type warning"];
  // Started as root, mosquitto would switch to the "mosquitto" user, which cannot read our temp directory.
  if (process.getuid && process.getuid() === 0) lines.push("user root");
  if (options.users) {
    const passwords = join(dir, "passwords");
    writeFileSync(passwords, "", { mode: 0o600 });
    for (const [user, password] of Object.entries(options.users)) {
      const made = spawnSync("mosquitto_passwd", ["-b", passwords, user, password], { encoding: "utf8" });
      if (made.status !== 0) throw new Error("mosquitto_passwd failed: " + made.stderr + made.stdout);
    }
    lines.push("allow_anonymous false", `password_file ${passwords}`);
  } else lines.push("allow_anonymous true");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, lines.join("\n") + "\n");

  let child: ChildProcess | undefined;
  let out = "";
  const launch = async () => {
    const proc = spawn(executable, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout?.on("data", (d) => (out += d));
    proc.stderr?.on("data", (d) => (out += d));
    let up = false;
    let probing = true;
    void (async () => {
      while (probing && !up) {
        up = await accepts(port);
        if (!up) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await until(() => up, {
        timeoutMs: 10000,
        what: () => "mosquitto accepts on port " + port + ": " + out,
        abort: () => proc.exitCode !== null,
      });
    } finally {
      probing = false;
    }
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await gone;
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    out: () => out,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A message a test subscriber received. */
export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface Subscriber {
  client: MqttClient;
  messages: Received[];
  /** Payloads (as text) received on `topic` so far. */
  texts(topic: string): string[];
  /** Waits until a message on `topic` satisfies `test` (default: any), and returns it. */
  waitFor(topic: string, test?: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  end(): Promise<void>;
}

/** An MQTT.js client subscribed to `topics` (retained messages included), resolved once the subscription holds. */
export async function subscriber(url: string, topics: string[], options: IClientOptions = {}): Promise<Subscriber> {
  const client = await connectAsync(url, { reconnectPeriod: 200, ...options });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, payload: Buffer.from(payload), retain: packet.retain }));
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  const find = (topic: string, test?: (m: Received) => boolean) => messages.find((m) => m.topic === topic && (!test || test(m)));
  return {
    client,
    messages,
    texts: (topic) => messages.filter((m) => m.topic === topic).map((m) => m.payload.toString()),
    waitFor: async (topic, test, timeoutMs = 10000) => {
      await until(() => find(topic, test) !== undefined, {
        timeoutMs,
        what: () => "a message on " + topic + " (got: " + messages.map((m) => m.topic + "=" + m.payload.toString()).join(", ") + ")",
      });
      return find(topic, test) as Received;
    },
    end: () => client.endAsync(true),
  };
}
