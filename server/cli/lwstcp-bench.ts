#!/usr/bin/env node
// lwstcp-bench: a load generator for LightweightSecureTCP servers (ours, or the C++ one).
//   lwstcp-bench --host H --port P --key … [--mode echo|handshake|idle] [--sessions N]
//                [--rate R] [--size S] [--duration SEC] [--json]
// Prints a progress line every second on stderr and a summary (handshakes/s, messages/s,
// latency percentiles) on stdout; --json prints the summary as one JSON object instead.
// Exit 0 when the load ran, 1 when no session could be opened or (echo mode) the server does
// not echo (no reply, or replies that differ from what was sent), 2 for bad flags or key.

import { MAX_MESSAGE_LENGTH } from "../../firmware/core/index.js";
import { type LoadMode, type LoadProgress, type LoadReport, runLoad } from "../load.js";
import {
  choiceFlag,
  DEVICE_ID_FLAG_SPEC,
  deviceIdFlag,
  type Flags,
  intFlag,
  KEY_FLAG_SPECS,
  keyFromFlags,
  numberFlag,
  portFlag,
  runTool,
  type ToolSpec,
  UsageError,
} from "./args.js";

const PROFILES = ["v1", "v2"] as const;

const BENCH_SPEC: ToolSpec = {
  program: "lwstcp-bench",
  summary: "A load generator for LightweightSecureTCP servers (ours or the C++ one): handshakes/s, messages/s, latency percentiles.",
  usage: "--port P [--host H] (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY) [--mode echo|handshake|idle] [flags]",
  flags: [
    { name: "host", value: "HOST", help: "server address", default: "127.0.0.1" },
    { name: "port", value: "PORT", help: "server port, 1..65535; required" },
    ...KEY_FLAG_SPECS,
    { name: "rounds", value: "R", help: "XTEA rounds, 1..128; must match the server (profile v1 only)", default: 32 },
    { name: "profile", value: "v1|v2", help: "must match the server", default: "v1" },
    { ...DEVICE_ID_FLAG_SPEC, help: DEVICE_ID_FLAG_SPEC.help + "; every session uses it" },
    {
      name: "mode",
      value: "echo|handshake|idle",
      help: "echo: --size-byte messages to an echoing server (lwstcp-server --mode echo), each round trip timed; handshake: loops of connect, handshake, disconnect; idle: hold N sessions open",
      default: "echo",
    },
    { name: "sessions", value: "N", help: "sessions (echo, idle) or concurrent handshake loops (handshake)", default: 1 },
    { name: "rate", value: "R", help: "echo: messages/s in total, spread over the sessions; 0 = closed loop, one message in flight per session", default: 0 },
    { name: "size", value: "S", help: "echo: bytes per message, 1.." + MAX_MESSAGE_LENGTH, default: 16 },
    { name: "duration", value: "SEC", help: "seconds to measure (fractions allowed), after all sessions are open", default: 10 },
    { name: "connect-concurrency", value: "C", help: "most handshakes in flight while opening sessions", default: 100 },
    { name: "keepalive", value: "MS", help: "send KeepAlive after this many ms without sending", default: 5000 },
    { name: "timeout", value: "MS", help: "close a session after this many ms without receiving (-1 disables)", default: 30000 },
    { name: "json", help: "print the summary as one JSON object" },
  ],
  examples: ["lwstcp-bench --port 12345 --key-file my.key --mode echo --sessions 100 --size 64 --duration 5"],
};

/** Why an echo run proves nothing about an echoing server, or null when the replies were echoes. */
function notEchoing(r: LoadReport): string | null {
  if (r.mode !== "echo" || r.sessionsOpened === 0) return null;
  if (r.echoMismatches > 0) return r.echoMismatches + " replies were not the message sent: the server does not echo (run it with --mode echo)";
  if (r.sent > 0 && r.messages === 0)
    return "no reply to " + r.sent + " messages in " + (r.durationMs / 1000).toFixed(1) + " s: the server does not echo (run it with --mode echo)";
  return null;
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

async function main(flags: Flags): Promise<number> {
  const port = portFlag(flags, "port");
  if (port === undefined) throw new UsageError("--port P is required");
  const key = keyFromFlags(flags, process.env);
  const mode = choiceFlag<LoadMode>(flags, "mode", ["echo", "handshake", "idle"], "echo");
  const json = flags.has("json");
  const profile = choiceFlag(flags, "profile", PROFILES, "v1");
  const deviceId = deviceIdFlag(flags, profile);
  const report = await runLoad({
    host: flags.get("host") || "127.0.0.1",
    port,
    key,
    rounds: intFlag(flags, "rounds", 1, 128),
    profile,
    deviceId,
    mode,
    sessions: intFlag(flags, "sessions", 1, 1000000) ?? 1,
    rate: intFlag(flags, "rate", 0, 100000000) ?? 0,
    size: intFlag(flags, "size", 1, MAX_MESSAGE_LENGTH) ?? 16,
    durationMs: (numberFlag(flags, "duration", 0.1, 86400) ?? 10) * 1000,
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
  const problem = notEchoing(report);
  if (problem) process.stderr.write("lwstcp-bench: " + problem + "\n");
  return problem || report.sessionsOpened === 0 || (mode === "handshake" && report.handshakes === 0) ? 1 : 0;
}

runTool(BENCH_SPEC, (flags) => main(flags).then((code) => process.exit(code)));
