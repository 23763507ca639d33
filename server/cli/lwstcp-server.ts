#!/usr/bin/env node
// lwstcp-server: a LightweightSecureTCP server for the desktop. Modes: fizzbuzz (answer n
// with the line for n + 1, as the C++ example), echo (send each message back), print
// (log each message's text). One log line per event; SIGINT/SIGTERM sends Disconnect to
// every session and exits 0.

import { LightweightSecureServer } from "../server.js";
import { fizzBuzzReply } from "../fizzbuzz.js";
import { createLogger, type LogFormat } from "../log.js";
import type { Session } from "../session.js";
import { choiceFlag, DEMO_KEY_WARNING, intFlag, isDemoKey, KEY_FLAGS, keyFromFlags, parseFlags, runCli, UsageError } from "./args.js";

const USAGE = `usage: lwstcp-server --port P [--host H] (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY)
                     [--rounds R] [--keepalive MS] [--timeout MS] [--mode fizzbuzz|echo|print] [--log text|json]
  --port       TCP port to listen on (0: any free port, printed in the "started" line)
  --host       address to listen on (default: all interfaces)
  --key        handshake key as 64 hex digits, each u32 word little-endian (wire order)
  --key-words  handshake key as 8 u32 words, as C++ code writes them: 0x12345678,0x9ABCDEF0,...
  --key-file   file holding 64 hex digits, 8 words, or 32 raw bytes
  --rounds     XTEA rounds, 1..128 (default 32; both sides must agree)
  --keepalive  send KeepAlive after this many ms without sending (default 5000)
  --timeout    close a session after this many ms without receiving (default 30000; -1 disables)
  --mode       fizzbuzz (default): reply to n with the line for n+1; echo: send messages back; print: print them
  --log        text (default) or json: one JSON object per line`;

const MODES = ["fizzbuzz", "echo", "print"] as const;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const flags = parseFlags(argv, ["port", "host", ...KEY_FLAGS, "rounds", "keepalive", "timeout", "mode", "log"]);
  const port = intFlag(flags, "port", 0, 65535);
  if (port === undefined) throw new UsageError("--port P is required");
  const key = keyFromFlags(flags, process.env);
  const mode = choiceFlag(flags, "mode", MODES, "fizzbuzz");
  const format = choiceFlag<LogFormat>(flags, "log", ["text", "json"], "text");
  const host = flags.get("host");
  let server: LightweightSecureServer;
  try {
    server = new LightweightSecureServer(port, {
      host,
      key,
      rounds: intFlag(flags, "rounds", 1, 128),
      keepAliveIntervalMs: intFlag(flags, "keepalive", 1, 2 ** 31),
      inactivityTimeoutMs: intFlag(flags, "timeout", -1, 2 ** 31),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (isDemoKey(key)) process.stderr.write(DEMO_KEY_WARNING + "\n");

  const log = createLogger(format, (line) => process.stdout.write(line + "\n"));
  server.on("handshakeStarted", (peer: string) => log("handshake-started", { peer }));
  server.on("handshakeFailed", (result) => log("handshake-failed", { peer: result.peer, reason: result.reason }));
  server.on("refused", (refused) => log("refused", { peer: refused.peer, reason: refused.reason }));
  server.on("error", (error: Error & { peer?: string }) => log("error", { peer: error.peer, reason: error.message }));
  server.on("session", (session: Session) => {
    const peer = session.peer;
    log("handshake-success", { peer });
    session.on("ended", (reason: string) => log("session-ended", { peer, reason }));
    session.on("error", (error: Error) => log("error", { peer, reason: error.message }));
    session.on("message", (text: string, bytes: Buffer) => {
      log("message", { peer, bytes: bytes.length, text: mode === "print" ? text : undefined });
      try {
        if (mode === "echo") session.sendMessage(bytes);
        else if (mode === "fizzbuzz") {
          const reply = fizzBuzzReply(text);
          if (reply === null) log("error", { peer, reason: "fizzbuzz: message does not start with a number" });
          else session.sendMessage(reply);
        }
      } catch (err) {
        log("error", { peer, reason: (err as Error).message });
      }
    });
  });

  try {
    await server.start();
  } catch (err) {
    log("error", { reason: "cannot listen on port " + port + ": " + (err as Error).message });
    return 1;
  }
  log("started", { host: host || "0.0.0.0", port: server.port, mode });

  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal while Disconnects are flushing: stop waiting.
    if (stopping) process.exit(0);
    stopping = true;
    log("stopping", { reason: signal, sessions: server.sessionCount });
    server.stop().then(() => {
      log("stopped");
      process.exit(0);
    });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  return 0;
}

runCli("lwstcp-server", main);
