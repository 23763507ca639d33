// Load generation against a LightweightSecureTCP server (ours or the C++ one): what
// `lwstcp-bench` runs and what bench/server.mjs drives in a separate process. Three modes:
//   echo       `sessions` sessions each send messages of `size` bytes to an echoing server
//              (lwstcp-server --mode echo): closed loop (one message in flight per session)
//              when `rate` is 0, else `rate` messages/s in total, spread over the sessions.
//              Round-trip latency is measured per message.
//   handshake  `sessions` loops each connect, complete the handshake and disconnect, again
//              and again: sequential handshakes/s with 1, latency under concurrency with more.
//   idle       open `sessions` sessions and hold them (keep-alive running) for the duration.
// Sessions are opened at most `connectConcurrency` at a time, so a large count does not trip
// the server's handshake cap or the listen backlog.

import type { Profile } from "../firmware/core/profile.js";
import { LightweightSecureClient } from "./client.js";
import type { KeyInput } from "./config.js";

export type LoadMode = "echo" | "handshake" | "idle";

export interface LoadOptions {
  host: string;
  port: number;
  key: KeyInput;
  rounds?: number;
  /** v1 (default) or v2; must match the server. */
  profile?: Profile;
  /** v2: the device id every session names itself by (a server with per-device keys needs one it knows). */
  deviceId?: string;
  mode: LoadMode;
  sessions: number;
  /** echo: messages per second in total; 0 = closed loop. */
  rate: number;
  /** echo: bytes per message (1..65528). */
  size: number;
  durationMs: number;
  /** Most handshakes in flight while opening sessions (default 100). */
  connectConcurrency?: number;
  keepAliveIntervalMs?: number;
  inactivityTimeoutMs?: number;
  /** Called about once a second while the load runs. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  elapsedMs: number;
  sessionsOpen: number;
  handshakes: number;
  messages: number;
  errors: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadReport {
  mode: LoadMode;
  sessions: number;
  sessionsOpened: number;
  durationMs: number;
  /** Handshakes completed in the measured window (handshake mode) or while opening (others). */
  handshakes: number;
  handshakesPerSecond: number;
  handshakeFailures: number;
  /** Why handshakes failed: reason → count (e.g. handshake-timeout, peer-closed). */
  handshakeFailureReasons: Record<string, number>;
  /** Echoes received in the measured window. */
  messages: number;
  messagesPerSecond: number;
  /** Payload bytes echoed per second (each way). */
  bytesPerSecond: number;
  /** echo: messages sent (in the measured window or before the end of it). */
  sent: number;
  /** echo: replies that were not the message sent (the server does not echo). */
  echoMismatches: number;
  errors: number;
  /** Milliseconds. */
  handshakeLatency: Percentiles;
  roundTripLatency: Percentiles;
}

/** Latency samples kept; past this, a uniform reservoir sample stands in for all. */
const MAX_SAMPLES = 200000;

class Samples {
  private readonly values: number[] = [];
  private seen = 0;
  add(ms: number): void {
    this.seen++;
    if (this.values.length < MAX_SAMPLES) this.values.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < MAX_SAMPLES) this.values[slot] = ms;
    }
  }
  percentiles(): Percentiles {
    const sorted = this.values.slice().sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(3) : 0);
    return { count: this.seen, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? +sorted[sorted.length - 1].toFixed(3) : 0 };
  }
}

const now = () => performance.now();

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { mode, sessions, size, rate } = options;
  const concurrency = Math.max(1, Math.min(options.connectConcurrency ?? 100, sessions));
  const clientOptions = {
    key: options.key,
    rounds: options.rounds,
    profile: options.profile,
    deviceId: options.deviceId,
    keepAliveIntervalMs: options.keepAliveIntervalMs,
    inactivityTimeoutMs: options.inactivityTimeoutMs,
  };
  const handshakeLatency = new Samples();
  const roundTripLatency = new Samples();
  const clients: LightweightSecureClient[] = [];
  let handshakes = 0;
  let handshakeFailures = 0;
  const handshakeFailureReasons: Record<string, number> = {};
  let messages = 0;
  let sent = 0;
  let echoMismatches = 0;
  let errors = 0;
  let measuring = false;
  let stopped = false;
  let windowStart = now();
  let windowEnd = 0;

  const progressTimer = setInterval(() => {
    options.onProgress?.({ elapsedMs: Math.round(now() - windowStart), sessionsOpen: clients.length, handshakes, messages, errors });
  }, 1000);

  /** One connect + handshake; the client (open) or null. */
  const open = async (): Promise<LightweightSecureClient | null> => {
    const client = new LightweightSecureClient(options.host, options.port, clientOptions);
    client.on("error", () => {
      errors++;
    });
    const t0 = now();
    const result = await client.connectToServer();
    if (!result.success) {
      handshakeFailures++;
      handshakeFailureReasons[result.reason] = (handshakeFailureReasons[result.reason] || 0) + 1;
      await client.disconnect();
      return null;
    }
    handshakeLatency.add(now() - t0);
    handshakes++;
    return client;
  };

  try {
    if (mode === "handshake") {
      // `sessions` loops of connect → handshake → disconnect, measured from the start.
      measuring = true;
      windowStart = now();
      const deadline = windowStart + options.durationMs;
      // A loop starts its next connect as soon as a handshake completes; the Disconnect and
      // the close of the previous connection go on in the background.
      const closing: Promise<void>[] = [];
      await Promise.all(
        Array.from({ length: sessions }, async () => {
          while (now() < deadline) {
            const client = await open();
            if (client) closing.push(client.disconnect());
          }
        }),
      );
      windowEnd = now();
      await Promise.all(closing);
    } else {
      // Open every session first (bounded concurrency), then measure.
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < sessions) {
            next++;
            const client = await open();
            if (client) clients.push(client);
          }
        }),
      );
      // Digits: a FizzBuzz server answers them with another line, which the echo check catches.
      const payload = Buffer.alloc(size, 0x31);
      const sentAt: number[][] = clients.map(() => []);
      clients.forEach((client, i) => {
        client.on("message", (_text: string, bytes: Buffer) => {
          if (mode === "echo" && !bytes.equals(payload)) echoMismatches++;
          const t = sentAt[i].shift();
          if (measuring && t !== undefined) {
            messages++;
            roundTripLatency.add(now() - t);
          }
          if (mode === "echo" && rate === 0 && !stopped) send(i);
        });
      });
      const send = (i: number) => {
        try {
          clients[i].sendMessage(payload);
          sentAt[i].push(now());
          sent++;
        } catch {
          errors++;
        }
      };
      measuring = true;
      windowStart = now();
      let rateTimer: NodeJS.Timeout | null = null;
      if (mode === "echo" && clients.length > 0) {
        if (rate === 0) for (let i = 0; i < clients.length; i++) send(i);
        else {
          // Open loop: every 10 ms, the messages due so far, round-robin over the sessions.
          let due = 0;
          let cursor = 0;
          let last = now();
          rateTimer = setInterval(() => {
            const t = now();
            due += ((t - last) / 1000) * rate;
            last = t;
            for (; due >= 1; due--) {
              send(cursor);
              cursor = (cursor + 1) % clients.length;
            }
          }, 10);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, options.durationMs));
      windowEnd = now();
      stopped = true;
      measuring = false;
      if (rateTimer) clearInterval(rateTimer);
    }
  } finally {
    clearInterval(progressTimer);
  }
  const durationMs = (windowEnd || now()) - windowStart;
  const sessionsOpened = mode === "handshake" ? sessions : clients.length;
  await Promise.all(clients.map((c) => c.disconnect()));
  const seconds = durationMs / 1000;
  return {
    mode,
    sessions,
    sessionsOpened,
    durationMs: Math.round(durationMs),
    handshakes,
    handshakesPerSecond: mode === "handshake" ? Math.round(handshakes / seconds) : 0,
    handshakeFailures,
    handshakeFailureReasons,
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    bytesPerSecond: Math.round((messages * size) / seconds),
    sent,
    echoMismatches,
    errors,
    handshakeLatency: handshakeLatency.percentiles(),
    roundTripLatency: roundTripLatency.percentiles(),
  };
}
