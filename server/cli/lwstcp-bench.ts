#!/usr/bin/env node
// lwstcp-bench: a load generator for LightweightSecureTCP servers (ours, or the C++ one).
//   lwstcp-bench --host H --port P --key … [--mode echo|handshake|idle] [--sessions N]
//                [--rate R] [--size S] [--duration SEC] [--json]
// Prints a progress line every second on stderr and a summary (handshakes/s, messages/s,
// latency percentiles) on stdout; --json prints the summary as one JSON object instead.
// Exit 0 when the load ran, 1 when no session could be opened, 2 for bad flags or key.

import { MAX_MESSAGE_LENGTH } from "../../firmware/core/index.js";
import { type LoadMode, type LoadProgress, type LoadReport, runLoad } from "../load.js";
import { choiceFlag, intFlag, KEY_FLAGS, keyFromFlags, parseFlags, runCli, UsageError } from "./args.js";

const USAGE = `usage: lwstcp-bench --host H --port P (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY) [--rounds R] [--profile v1|v2]
                    [--mode echo|handshake|idle] [--sessions N] [--rate R] [--size S] [--duration SEC]
                    [--connect-concurrency C] [--keepalive MS] [--timeout MS] [--json]
  --mode       echo (default): each session sends --size-byte messages to an echoing server
               (lwstcp-server --mode echo) and times each round trip;
               handshake: N loops of connect, handshake, disconnect (handshakes/s and latency);
               idle: open N sessions and hold them, keep-alive running
  --sessions   sessions (echo, idle) or concurrent handshake loops (handshake); default 1
  --rate       echo: messages/s in total, spread over the sessions; 0 (default) = closed loop,
               one message in flight per session
  --size       echo: bytes per message, 1..${MAX_MESSAGE_LENGTH} (default 16)
  --duration   seconds to measure (fractions allowed), after all sessions are open (default 10)
  --connect-concurrency  most handshakes in flight while opening sessions (default 100)
  --profile    v1 (default) or v2; must match the server
  --json       print the summary as one JSON object`;

const PROFILES = ["v1", "v2"] as const;

function secondsFlag(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || value <= 0 || value > 86400)
    throw new UsageError("--duration must be a number of seconds from 0.1 to 86400, got '" + text + "'");
  return value;
}

function formatProgress(p: LoadProgress): string {
  return `[${(p.elapsedMs / 1000).toFixed(0)}s] sessions ${p.sessionsOpen}, handshakes ${p.handshakes}, messages ${p.messages}, errors ${p.errors}`;
}

export function formatReport(r: LoadReport): string {
  const l = (p: LoadReport["roundTripLatency"]) => `p50 ${p.p50} ms, p90 ${p.p90} ms, p99 ${p.p99} ms, max ${p.max} ms (${p.count} samples)`;
  const lines = [
    `mode ${r.mode}: ${r.sessionsOpened}/${r.sessions} sessions, ${(r.durationMs / 1000).toFixed(1)} s measured, ${r.errors} errors, ${r.handshakeFailures} failed handshakes` +
      (r.handshakeFailures
        ? " (" +
          Object.entries(r.handshakeFailureReasons)
            .map(([reason, n]) => reason + " " + n)
            .join(", ") +
          ")"
        : ""),
  ];
  if (r.mode === "handshake") lines.push(`handshakes: ${r.handshakes} (${r.handshakesPerSecond}/s)`);
  lines.push(`handshake latency: ${l(r.handshakeLatency)}`);
  if (r.mode === "echo") {
    lines.push(`messages: ${r.messages} echoed (${r.messagesPerSecond}/s, ${(r.bytesPerSecond / 1e6).toFixed(2)} MB/s payload each way)`);
    lines.push(`round-trip latency: ${l(r.roundTripLatency)}`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const flags = parseFlags(
    argv,
    ["host", "port", ...KEY_FLAGS, "rounds", "profile", "mode", "sessions", "rate", "size", "duration", "connect-concurrency", "keepalive", "timeout"],
    ["json"],
  );
  const port = intFlag(flags, "port", 1, 65535);
  if (port === undefined) throw new UsageError("--port P is required");
  const key = keyFromFlags(flags, process.env);
  const mode = choiceFlag<LoadMode>(flags, "mode", ["echo", "handshake", "idle"], "echo");
  const json = flags.has("json");
  const report = await runLoad({
    host: flags.get("host") || "127.0.0.1",
    port,
    key,
    rounds: intFlag(flags, "rounds", 1, 128),
    profile: choiceFlag(flags, "profile", PROFILES, "v1"),
    mode,
    sessions: intFlag(flags, "sessions", 1, 1000000) ?? 1,
    rate: intFlag(flags, "rate", 0, 100000000) ?? 0,
    size: intFlag(flags, "size", 1, MAX_MESSAGE_LENGTH) ?? 16,
    durationMs: secondsFlag(flags.get("duration"), 10) * 1000,
    connectConcurrency: intFlag(flags, "connect-concurrency", 1, 100000),
    keepAliveIntervalMs: intFlag(flags, "keepalive", 1, 2 ** 31),
    inactivityTimeoutMs: intFlag(flags, "timeout", -1, 2 ** 31),
    onProgress: (p) => {
      const line = formatProgress(p);
      process.stderr.write(process.stderr.isTTY ? "\r" + line + "   " : line + "\n");
    },
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  process.stdout.write((json ? JSON.stringify(report) : formatReport(report)) + "\n");
  return report.sessionsOpened === 0 || (mode === "handshake" && report.handshakes === 0) ? 1 : 0;
}

runCli("lwstcp-bench", () => main().then((code) => process.exit(code)));
