#!/usr/bin/env node
// lwstcp-server: a LightweightSecureTCP server for the desktop. Modes: fizzbuzz (answer n
// with the line for n + 1, as the C++ example), echo (send each message back), print
// (log each message's text). One log line per event; SIGINT/SIGTERM sends Disconnect to every
// session and exits 0. SIGHUP re-reads the --keys file (keys-file.ts) without dropping sessions;
// without --keys there is nothing to reload, and it says so in one line.
// --http serves the live view (server/http/monitor.ts); --stats-interval logs a one-line
// summary from the same counters (server/fleet-stats.ts); --mode none with --mqtt only bridges
// to MQTT (server/mqtt/).
//
// --workers N (node:cluster): the primary forks N worker processes that each run this server
// on the same port; the primary hands each new connection to the next worker (round-robin),
// so sessions spread over N cores. It prints one "started … workers=N" line once every worker
// listens, restarts a worker that dies, and on SIGINT/SIGTERM stops them all (each sends
// Disconnect to its sessions) before exiting 0. It passes SIGHUP on to every worker, and each
// reloads its own keys (one keys-reloaded line per worker).

import cluster, { type Worker } from "node:cluster";
import { ERR_SEND_QUEUE_FULL, type LwstcpError } from "../errors.js";
import { fizzBuzzReply } from "../fizzbuzz.js";
import { everyInterval, fleetStats, statsLine } from "../fleet-stats.js";
import { type Monitor, parseHttpAddress, startMonitor } from "../http/monitor.js";
import { createLogger, eventLevel, LOG_LEVEL_FLAG_SPECS, type LogFormat, type LogFunction, type LogLevel, logLevelFromFlags, stdoutIsJournal } from "../log.js";
import { type MqttBridge, startMqttBridge } from "../mqtt/bridge.js";
import { MQTT_FLAG_SPECS, mqttOptionsFromFlags } from "../mqtt/flags.js";
import { LightweightSecureServer } from "../server.js";
import type { Session } from "../session.js";
import {
  choiceFlag,
  DEMO_KEY_WARNING,
  type Flags,
  intFlag,
  isDemoKey,
  KEY_FLAG_SPECS,
  KEY_FLAGS,
  keyFromFlags,
  portFlag,
  runTool,
  type ToolSpec,
  UsageError,
} from "./args.js";
import { keysFileWarning, readKeysFile, reloadKeysFile } from "./keys-file.js";

const MODES = ["fizzbuzz", "echo", "print", "none"] as const;
const PROFILES = ["v1", "v2"] as const;

/** Every flag lwstcp-server takes: parsing, --help and the messages all come from this table. */
const SERVER_SPEC: ToolSpec = {
  program: "lwstcp-server",
  summary: "A LightweightSecureTCP server: answers FizzBuzz (as the C++ example), echoes, or prints each message.",
  usage: "--port P [--host H] (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY) [flags]",
  flags: [
    { name: "port", value: "PORT", help: 'TCP port to listen on, 0..65535 (0: any free port, printed in the "started" line); required' },
    { name: "host", value: "HOST", help: "address to listen on", default: "all interfaces" },
    ...KEY_FLAG_SPECS,
    { name: "rounds", value: "R", help: "XTEA rounds, 1..128; both sides must agree (profile v1 only)", default: 32 },
    {
      name: "profile",
      value: "v1|v2",
      help: "v1: the C++ library's wire format; v2: authenticated (AES-256 + HMAC-SHA256), does not pair with C++",
      default: "v1",
    },
    {
      name: "keys",
      value: "FILE",
      help: 'profile v2: per-device keys, a JSON object {"device-id": "<64 hex digits>", ...} (readable by the owner only); SIGHUP re-reads it. A key flag is then optional: it serves clients without an id',
    },
    { name: "keepalive", value: "MS", help: "send KeepAlive after this many ms without sending", default: 5000 },
    { name: "timeout", value: "MS", help: "close a session after this many ms without receiving (-1 disables)", default: 30000 },
    {
      name: "mode",
      value: "fizzbuzz|echo|print|none",
      help: "fizzbuzz: reply to n with the line for n+1; echo: send messages back; print: print them; none: no reply (with --mqtt: only bridge)",
      default: "fizzbuzz",
    },
    { name: "log", value: "text|json", help: "log format: text, or json (one JSON object per line)", default: "text" },
    { name: "workers", value: "N", help: "run N worker processes on the same port (node:cluster), sessions spread over them", default: "1 (no cluster)" },
    { name: "max-sessions", value: "N", help: "most connections per process (handshaking + open); more are refused", default: 10000 },
    { name: "max-queued-bytes", value: "B", help: "per session: refuse a send past this many queued wire bytes", default: 262144 },
    { name: "queue-budget", value: "B", help: "all sessions' send queues together, in bytes", default: "1/8 of the machine's memory" },
    { name: "stall-timeout", value: "MS", help: 'end a session ("send-stalled") whose queue has not moved for this long (-1 disables)', default: 20000 },
    { name: "max-per-address", value: "N", help: "most pending handshakes from one address (IPv6 per /64); more are refused", default: 1024 },
    { name: "silent-timeout", value: "MS", help: "drop a handshake whose peer has sent nothing for this long", default: 2000 },
    { name: "handshake-timeout", value: "MS", help: "drop a handshake not finished within this long (raise it for slow devices)", default: 5000 },
    {
      name: "http",
      value: "[HOST:]PORT",
      help: 'serve /metrics, /devices and a live page over HTTP (host 127.0.0.1 unless given; port 0: any free port, printed in the "http-listening" line); not with --workers',
    },
    { name: "stats-interval", value: "SECONDS", help: "log a one-line stats summary this often (0: never)", default: 60 },
    ...MQTT_FLAG_SPECS,
    ...LOG_LEVEL_FLAG_SPECS,
  ],
  examples: [
    "lwstcp-server --port 12345 --mode fizzbuzz --key-words 0x12345678,0x9ABCDEF0,0x13572468,0xACEBDF01,0x11223344,0x55667788,0x99AABBCC,0xDDEEFF00",
    "LWSTCP_KEY=$(cat my.key) lwstcp-server --port 12345 --mode echo --log json",
    "lwstcp-server --config /etc/lwstcp/server.json --log-level debug",
    "lwstcp-server --port 12345 --key-file my.key --mode none --mqtt mqtt://127.0.0.1:1883 --mqtt-name hall",
  ],
  config: true,
};

async function main(flags: Flags): Promise<number> {
  const port = portFlag(flags, "port", { allowZero: true });
  if (port === undefined) throw new UsageError("--port P is required");
  const keysFile = flags.get("keys");
  // With --keys, a single key is optional: without one only clients with an id get in.
  const key = keysFile !== undefined && !KEY_FLAGS.some((name) => flags.has(name)) && !process.env.LWSTCP_KEY ? undefined : keyFromFlags(flags, process.env);
  const mode = choiceFlag(flags, "mode", MODES, "fizzbuzz");
  const format = choiceFlag<LogFormat>(flags, "log", ["text", "json"], "text");
  const profile = choiceFlag(flags, "profile", PROFILES, "v1");
  const host = flags.get("host");
  const workers = intFlag(flags, "workers", 1, 1024) ?? 1;
  const level = logLevelFromFlags(flags);
  const httpAddress = httpFlag(flags, workers);
  const statsIntervalS = intFlag(flags, "stats-interval", 0, 86400) ?? 60;
  const mqtt = mqttOptionsFromFlags(flags);
  // Each worker would be a bridge of its own under one name; several servers on one broker do that properly.
  if (mqtt && workers > 1) throw new UsageError("--mqtt does not combine with --workers: run several servers on one broker instead (docs/MQTT.md)");
  const workerId = cluster.isWorker ? cluster.worker?.id : undefined;
  if (keysFile !== undefined && profile !== "v2") throw new UsageError("--keys needs --profile v2: the v1 wire format cannot carry a device id");
  let keys: ReturnType<typeof readKeysFile> | undefined;
  if (keysFile !== undefined) {
    try {
      keys = readKeysFile(keysFile);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const warning = keysFileWarning(keysFile);
    if (warning && workerId === undefined) process.stderr.write(warning + "\n");
  }
  if (workers > 1 && cluster.isPrimary) {
    if (key && isDemoKey(key)) process.stderr.write(DEMO_KEY_WARNING + "\n");
    return runPrimary(workers, serverLogger(format, level, mode), host || "0.0.0.0", mode);
  }
  let server: LightweightSecureServer;
  try {
    server = new LightweightSecureServer(port, {
      host,
      key,
      keys,
      rounds: intFlag(flags, "rounds", 1, 128),
      profile,
      keepAliveIntervalMs: intFlag(flags, "keepalive", 1, 2 ** 31),
      inactivityTimeoutMs: intFlag(flags, "timeout", -1, 2 ** 31),
      maxSessions: intFlag(flags, "max-sessions", 1, 10000000),
      maxQueuedBytes: intFlag(flags, "max-queued-bytes", 1, 2 ** 52),
      queueBudgetBytes: intFlag(flags, "queue-budget", 1, 2 ** 52),
      sendStallTimeoutMs: intFlag(flags, "stall-timeout", -1, 2 ** 31),
      maxHandshakesPerAddress: intFlag(flags, "max-per-address", 1, 10000000),
      silentHandshakeTimeoutMs: intFlag(flags, "silent-timeout", 1, 2 ** 31),
      handshakeTimeoutMs: intFlag(flags, "handshake-timeout", 1, 2 ** 31),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (key && isDemoKey(key) && workerId === undefined) process.stderr.write(DEMO_KEY_WARNING + "\n");

  const write = serverLogger(format, level, mode);
  const log: typeof write = workerId === undefined ? write : (event, fields = {}) => write(event, { worker: workerId, ...fields });
  // The per-session events: whether they are written is their level's business (server/log.ts).
  const chatty: typeof write = log;
  server.on("handshakeStarted", (peer: string) => chatty("handshake-started", { peer }));
  server.on("handshakeFailed", (result) => chatty("handshake-failed", { peer: result.peer, device: result.deviceId, reason: result.reason }));
  server.on("refused", (refused) => log("refused", { peer: refused.peer, reason: refused.reason }));
  server.on("error", (error: Error & { peer?: string }) => log("error", { peer: error.peer, reason: error.message }));
  server.on("session", (session: Session) => {
    const peer = session.peer;
    // A peer that stops reading gets its replies refused by the thousand: one line per episode
    // (until a reply is queued again), not one per message.
    let refusing = false;
    const device = session.deviceId;
    chatty("handshake-success", { peer, device });
    session.on("ended", (reason: string) => chatty("session-ended", { peer, device, reason }));
    session.on("error", (error: Error) => log("error", { peer, reason: error.message }));
    session.on("message", (text: string, bytes: Buffer) => {
      if (mode === "print") log("message", { peer, bytes: bytes.length, text });
      else chatty("message", { peer, bytes: bytes.length });
      try {
        if (mode === "echo") session.sendMessage(bytes);
        else if (mode === "fizzbuzz") {
          const reply = fizzBuzzReply(text);
          if (reply === null) log("error", { peer, reason: "fizzbuzz: message does not start with a number" });
          else session.sendMessage(reply);
        }
        refusing = false;
      } catch (err) {
        const full = (err as LwstcpError).code === ERR_SEND_QUEUE_FULL;
        if (!full || !refusing) log("error", { peer, reason: (err as Error).message + (full ? " (further refusals not logged until a reply is queued)" : "") });
        refusing = full;
      }
    });
  });

  try {
    await server.start();
  } catch (err) {
    log("error", { reason: "cannot listen on port " + port + ": " + (err as Error).message });
    return 1;
  }
  // The signal handlers come first and "started" last: a supervisor (or a test) that signals the
  // moment it reads "started" must find the handlers in place and everything up.
  let monitor: Monitor | null = null;
  let bridge: MqttBridge | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal while Disconnects are flushing: stop waiting.
    if (stopping) process.exit(0);
    stopping = true;
    log("stopping", { reason: signal, sessions: server.sessionCount });
    Promise.all([server.stop(), monitor?.close()]).then(async () => {
      await bridge?.stop();
      log("stopped");
      process.exit(0);
    });
  };
  // A worker stops when its primary says so (SIGTERM); a Ctrl-C reaches the whole process
  // group, and the primary answers it for everyone.
  process.on("SIGINT", () => (cluster.isWorker ? undefined : shutdown("SIGINT")));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => {
    if (keysFile !== undefined) reloadKeysFile(server, keysFile, log);
    else log("reload", { reason: "SIGHUP: nothing to reload without --keys; the server keeps running" });
  });
  if (httpAddress) {
    try {
      monitor = await startMonitor(server, httpAddress);
    } catch (err) {
      log("error", { reason: "cannot serve HTTP on " + httpAddress.host + ":" + httpAddress.port + ": " + (err as Error).message });
      await server.stop();
      return 1;
    }
    log("http-listening", { host: monitor.host, port: monitor.port, url: monitor.url });
  }
  if (statsIntervalS > 0) {
    everyInterval(fleetStats(server), statsIntervalS * 1000, (summary) => {
      if (format === "json") log("stats", { ...summary });
      else log("stats " + statsLine(summary));
    });
  }
  bridge = mqtt && (await startMqttBridge(server, { ...mqtt, log }));

  if (cluster.isWorker && process.send) process.send({ lwstcp: "listening", port: server.port });
  else log("started", { host: host || "0.0.0.0", port: server.port, mode, profile });
  return 0;
}

/** The log on stdout; in print mode the messages are what the server is for, so they are info, not debug. */
function serverLogger(format: LogFormat, level: LogLevel, mode: string): LogFunction {
  const levelOf = (event: string): LogLevel => (event === "message" && mode === "print" ? "info" : eventLevel(event));
  return createLogger(format, (line) => process.stdout.write(line + "\n"), undefined, { level, levelOf, journal: stdoutIsJournal() });
}

/** --http's address; refused with --workers, where each worker would show only its own sessions. */
function httpFlag(flags: Flags, workers: number): { host: string; port: number } | undefined {
  const text = flags.get("http");
  if (text === undefined) return undefined;
  if (workers > 1) throw new UsageError("--http cannot be combined with --workers: each worker holds only its own sessions (run one process per port instead)");
  try {
    return parseHttpAddress(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The cluster primary: forks the workers (each runs main() with the same flags), prints
 * "started" once all listen, restarts a worker that dies, and stops them all on a signal.
 */
function runPrimary(count: number, log: LogFunction, host: string, mode: string): Promise<number> {
  let stopping = false;
  let port = 0;
  const listening = new Set<number>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on("message", (message: { lwstcp?: string; port?: number }) => {
      if (message && message.lwstcp === "listening") {
        port = message.port as number;
        listening.add(worker.id);
        if (listening.size === count) log("started", { host, port, mode, workers: count });
      }
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    const wasListening = listening.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers || {}).length === 0) {
        log("stopped");
        process.exit(0);
      }
      return;
    }
    log("worker-exited", { worker: worker.id, code: code ?? undefined, signal: signal ?? undefined });
    // A worker that dies before it ever listened (a bad port, say) would die again: give up.
    if (!wasListening && port === 0) {
      log("error", { reason: "a worker exited before listening; stopping" });
      stopping = true;
      for (const w of Object.values(cluster.workers || {})) w?.kill("SIGTERM");
      process.exitCode = 1;
      if (Object.keys(cluster.workers || {}).length === 0) process.exit(1);
      return;
    }
    fork();
  });
  const shutdown = (signal: string) => {
    if (stopping) process.exit(0);
    stopping = true;
    log("stopping", { reason: signal, workers: count });
    for (const worker of Object.values(cluster.workers || {})) worker?.process.kill("SIGTERM");
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // Each worker re-reads the keys file itself (and logs it): the primary holds no sessions.
  process.on("SIGHUP", () => {
    for (const worker of Object.values(cluster.workers || {})) worker?.process.kill("SIGHUP");
  });
  return Promise.resolve(0);
}

runTool(SERVER_SPEC, main);
