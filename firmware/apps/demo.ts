// The board demo: bring Wi-Fi up, then run the C++ ESP32 example's FizzBuzz client or an echo
// server, as the Storage file lwstcp-config.json says (boards/config.example.json shows it):
//   { "ssid", "password", "host", "port", "key", "rounds", "role": "client" | "server",
//     optional "count" (client: stop after that many correct replies), "keepAliveMs", "timeoutMs",
//     optional "profile": "v1" (default) | "v2" (authenticated; the peer must use v2 too),
//     optional "deviceId" (v2 client: the id it names itself by, for a server with --keys) }
// The library comes from the Storage file "lwstcp", and for profile v2 also "lwstcp-v2"
// (npm run flash uploads them).
// Everything the board does is printed on the serial console with an "lwstcp:" prefix.

import { fizzBuzzLine, fizzBuzzNumber, fizzBuzzReply } from "./fizzbuzz.js";

// The board this bundle was built for; Rollup replaces the name (see rollup.config.mjs).
declare const __LWSTCP_BOARD__: string;

interface DemoConfig {
  ssid: string;
  password: string;
  host: string;
  port: number;
  key: string | number[];
  rounds?: number;
  profile?: string;
  deviceId?: string;
  role: string;
  count?: number;
  keepAliveMs?: number;
  timeoutMs?: number;
}

const CONFIG_FILE = "lwstcp-config.json";
const WIFI_RETRY_MIN_MS = 2000;
const WIFI_RETRY_MAX_MS = 60000;
const IP_POLL_MS = 500;

function log(text: string): void {
  console.log("lwstcp: " + text);
}

function readConfig(): DemoConfig | undefined {
  const config = require("Storage").readJSON(CONFIG_FILE, true) as DemoConfig | undefined;
  if (!config) {
    log("no " + CONFIG_FILE + " in Storage: copy boards/config.example.json to boards/config.json, edit it, run npm run flash");
    return undefined;
  }
  const problems: string[] = [];
  if (typeof config.ssid !== "string" || !config.ssid) problems.push("ssid");
  if (typeof config.password !== "string") problems.push("password");
  if (typeof config.port !== "number") problems.push("port");
  if (config.role !== "server" && typeof config.host !== "string") problems.push("host");
  if (config.role !== "client" && config.role !== "server") problems.push('role ("client" or "server")');
  if (!config.key) problems.push("key");
  if (config.profile !== undefined && config.profile !== "v1" && config.profile !== "v2") problems.push('profile ("v1" or "v2")');
  if (config.deviceId !== undefined && (typeof config.deviceId !== "string" || config.profile !== "v2"))
    problems.push('deviceId (a string, with profile "v2")');
  if (problems.length) {
    log(CONFIG_FILE + " is missing or has a bad " + problems.join(", "));
    return undefined;
  }
  return config;
}

/** Connects to the access point, retrying with backoff, and calls `ready(ip)` once an IP is assigned. */
function bringUpWifi(config: DemoConfig, ready: (ip: string) => void): void {
  const wifi = require("Wifi");
  let attempt = 0;
  let started = false;
  let relinking = false;
  const connect = function () {
    log("Wi-Fi: connecting to " + config.ssid);
    wifi.connect(config.ssid, { password: config.password }, function (err: string | null) {
      if (err) {
        let delay = WIFI_RETRY_MIN_MS * (1 << Math.min(attempt, 10));
        if (delay > WIFI_RETRY_MAX_MS) delay = WIFI_RETRY_MAX_MS;
        attempt++;
        log("Wi-Fi: " + err + "; retrying in " + delay + " ms");
        setTimeout(connect, delay);
        return;
      }
      attempt = 0;
      waitForIp();
    });
  };
  const waitForIp = function () {
    const info = wifi.getIP();
    if (!info || !info.ip || info.ip === "0.0.0.0") {
      setTimeout(waitForIp, IP_POLL_MS);
      return;
    }
    log("Wi-Fi: up, IP " + info.ip);
    if (!started) {
      started = true;
      ready(info.ip);
    }
  };
  // A lost link is brought back the same way; the lwstcp client reconnects by itself.
  // Only after the first IP: failed attempts before that report here too, and retry above.
  wifi.on("disconnected", function (details: { msg?: string } | undefined) {
    if (!started || relinking) return;
    relinking = true;
    log("Wi-Fi: disconnected (" + (details && details.msg) + "); reconnecting");
    setTimeout(function () {
      relinking = false;
      connect();
    }, WIFI_RETRY_MIN_MS);
  });
  connect();
}

/**
 * The C++ ESP32 example's client: send "1", then answer each line starting with n with the line
 * for n + 1 (firmware/apps/fizzbuzz.ts), checking that each line is the one that was due.
 */
function runClient(lw: any, config: DemoConfig): void {
  const client = new lw.LightweightSecureClient(config.host, config.port);
  let expected = 2;
  let replies = 0;
  let wrong = 0;
  client.setOnConnected(function () {
    log("connected to " + config.host + ":" + config.port + ", handshaking");
  });
  client.setOnHandshakeSuccess(function () {
    log("handshake succeeded; sending 1");
    expected = 2;
    client.sendMessage("1");
  });
  client.setOnHandshakeFailed(function (reason: string, detail?: string) {
    log("handshake failed: " + reason + (detail ? " (" + detail + ")" : ""));
  });
  client.setOnMessageReceived(function (text: string) {
    const n = fizzBuzzNumber(text);
    replies++;
    if (text !== fizzBuzzLine(expected)) {
      wrong++;
      log("<- " + text + " (expected " + fizzBuzzLine(expected) + ")");
    } else {
      log("<- " + text);
    }
    if (config.count && replies >= config.count) {
      log("FizzBuzz done: " + replies + " replies, " + wrong + " wrong");
      client.disconnect();
      return;
    }
    const reply = fizzBuzzReply(text);
    if (reply === null) return; // nothing to answer; the C++ peer would fail here too
    expected = n + 2;
    log("-> " + reply);
    client.sendMessage(reply);
  });
  client.setOnDisconnected(function (reason: string) {
    log("disconnected: " + reason);
  });
  client.setOnError(function (text: string) {
    log("error: " + text);
  });
  if (config.keepAliveMs) client.setKeepAliveConfig(config.keepAliveMs, config.timeoutMs || -1);
  if (config.deviceId) client.setDeviceId(config.deviceId);
  client.connectToServer();
}

function runEchoServer(lw: any, config: DemoConfig, ip: string): void {
  const server = new lw.LightweightSecureServer(config.port);
  server.setOnHandshakeSuccess(function (_result: unknown, session: any) {
    log("session opened");
    session.setOnMessageReceived(function (text: string) {
      // Echo after this callback returns: the library then drops its receive buffer, so a
      // 64 KB message is not held three times at once (about 4,700 JsVars each on an ESP32).
      setTimeout(function () {
        session.sendMessage(text);
      }, 0);
    });
    session.setOnSessionEnded(function (reason: string) {
      log("session ended: " + reason);
    });
  });
  server.setOnHandshakeFailed(function (result: { reason: string }) {
    log("handshake failed: " + result.reason);
  });
  server.setOnError(function (text: string) {
    log("error: " + text);
  });
  if (config.keepAliveMs) server.setKeepAliveConfig(config.keepAliveMs, config.timeoutMs || -1);
  if (server.start()) log("echo server listening on " + ip + ":" + config.port);
}

function main(): void {
  if (process.env.BOARD !== __LWSTCP_BOARD__) {
    log("WARNING: this app was built for " + __LWSTCP_BOARD__ + " but runs on " + process.env.BOARD);
  }
  const config = readConfig();
  if (!config) return;
  const lw = require("lwstcp");
  lw.setHandshakeKey(config.key);
  if (config.rounds) lw.setNumberOfRounds(config.rounds);
  if (config.profile) {
    try {
      lw.setProfile(config.profile);
    } catch (e) {
      log("cannot use profile " + config.profile + ": " + e + " (npm run flash uploads lwstcp-v2 when the config asks for v2)");
      return;
    }
    log("profile " + config.profile);
  }
  bringUpWifi(config, function (ip) {
    if (config.role === "client") runClient(lw, config);
    else runEchoServer(lw, config, ip);
  });
}

main();

export {};
