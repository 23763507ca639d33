// The live view's tests: lwstcp-server with --http on 127.0.0.1:0 (its address read from the
// "http-listening" log line), plain HTTP requests on a fresh connection each (no keep-alive pool
// holding sockets between them), and the Prometheus text parsed into samples.

import { request } from "node:http";
import { connect } from "node:net";
import { type Proc, startLwstcpServer, until } from "./processes.js";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own connection. */
export function httpRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error("no answer from " + url + " within 10 s")));
    req.end(options.body);
  });
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const reply = await httpRequest(url);
  return { status: reply.status, json: JSON.parse(reply.body) };
}

/** What raw bytes on a new connection get back before the server closes it (for requests a client library would not send). */
export function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let got = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => (got += chunk));
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error("not a Prometheus sample line: " + line);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample `name` whose labels include `labels`; undefined when there is none. */
export function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.keys(labels).every((k) => s.labels[k] === labels[k]));
  if (found.length > 1) throw new Error(found.length + " samples of " + name + " match " + JSON.stringify(labels));
  return found.length ? found[0].value : undefined;
}

export async function scrape(base: string): Promise<Sample[]> {
  const reply = await httpRequest(base + "metrics");
  if (reply.status !== 200) throw new Error("/metrics answered " + reply.status + ": " + reply.body);
  return parseMetrics(reply.body);
}

/** lwstcp-server on 127.0.0.1:0 with --http 127.0.0.1:0 and `args`; resolves with the process and the view's base URL. */
export async function startMonitoredServer(args: string[]): Promise<{ proc: Proc; port: number; base: string; httpPort: number }> {
  const proc = await startLwstcpServer(0, ["--http", "127.0.0.1:0", ...args]);
  await until(() => proc.events().some((e) => e.event === "http-listening"), {
    timeoutMs: 10000,
    what: () => "the http-listening line: " + proc.out(),
    abort: () => proc.child.exitCode !== null,
  });
  const started = proc.events().find((e) => e.event === "started") as Record<string, any>;
  const listening = proc.events().find((e) => e.event === "http-listening") as Record<string, any>;
  return { proc, port: started.port, base: listening.url, httpPort: listening.port };
}

/**
 * A board app (run by host-sim's startDevice, on the firmware library bundle) that sends its
 * settings' `hello` once its session is open and prints "got <message>" for each one that arrives.
 */
export const HELLO_APP = `var cfg = require("Storage").readJSON("lwstcp-config.json", true);
var lw = require("lwstcp");
lw.setHandshakeKey(cfg.key);
require("Wifi").connect(cfg.ssid, { password: cfg.password }, function (err) {
  if (err) { print("wifi failed " + err); return; }
  var client = new lw.LightweightSecureClient(cfg.host, cfg.port);
  client.setOnHandshakeSuccess(function () { client.sendMessage(cfg.hello); });
  client.setOnMessageReceived(function (message) { print("got " + message); });
  client.connectToServer();
});
`;

/** HELLO_APP's settings for a board on the simulated Wi-Fi that connects to 127.0.0.1:port. */
export function helloConfig(port: number, keyHex: string, hello: string) {
  return { ssid: "lab", password: "secret", host: "127.0.0.1", port, key: keyHex, hello };
}
