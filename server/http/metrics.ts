// The Prometheus view of one server's FleetStats, through prom-client in a registry of its own
// (two servers in one process must not share the global one). Counters and gauges are filled
// from a fresh snapshot at scrape time, so the protocol side does no work for them; only the two
// histograms are fed as events happen, once per handshake and once per ended session.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DurationObserver, FleetSnapshot, FleetStats } from "../fleet-stats.js";

/** Seconds: a LAN handshake takes milliseconds, an ESP32's v1 Response up to a few hundred. */
const HANDSHAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds: from a minute to a week. */
const SESSION_BUCKETS = [1, 10, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600];

/** Default process metrics left out, each one a walk over all the process's sockets per scrape. */
const WALKING_METRICS = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "process_open_fds",
];

export interface FleetMetrics {
  readonly registry: Registry;
  /** Stops feeding the histograms. */
  detach(): void;
}

export function createFleetMetrics(stats: FleetStats): FleetMetrics {
  const registry = new Registry();
  // Every counter and gauge of one scrape reads the same snapshot, taken by the first collect().
  let snapshot: FleetSnapshot | null = null;
  const current = (): FleetSnapshot => {
    if (!snapshot) {
      snapshot = stats.snapshot();
      setImmediate(() => (snapshot = null));
    }
    return snapshot;
  };

  new Gauge({
    name: "lwstcp_sessions_open",
    help: "Open sessions (handshake done), by profile",
    labelNames: ["profile"],
    registers: [registry],
    collect() {
      const s = current();
      this.set({ profile: "v1" }, s.sessionsByProfile.v1);
      this.set({ profile: "v2" }, s.sessionsByProfile.v2);
    },
  });
  new Counter({
    name: "lwstcp_handshakes_total",
    help: 'Finished handshakes, by result ("success" or "failure") and failure reason',
    labelNames: ["result", "reason"],
    registers: [registry],
    collect() {
      const s = current();
      this.reset();
      this.inc({ result: "success" }, s.handshakesSucceeded);
      for (const reason of Object.keys(s.handshakesFailed)) this.inc({ result: "failure", reason }, s.handshakesFailed[reason]);
    },
  });
  new Counter({
    name: "lwstcp_refused_total",
    help: "Connections refused before any handshake, by reason",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      const s = current();
      this.reset();
      for (const reason of Object.keys(s.refused)) this.inc({ reason }, s.refused[reason]);
    },
  });
  new Counter({
    name: "lwstcp_sessions_ended_total",
    help: "Sessions that have ended",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(current().sessionsEnded);
    },
  });
  const traffic = (name: string, help: string, read: (s: FleetSnapshot) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(current()));
      },
    });
  traffic("lwstcp_messages_received_total", "Messages received from devices (up)", (s) => s.messagesIn);
  traffic("lwstcp_messages_sent_total", "Messages sent to devices (down)", (s) => s.messagesOut);
  traffic("lwstcp_message_bytes_received_total", "Payload bytes of the messages received from devices", (s) => s.bytesIn);
  traffic("lwstcp_message_bytes_sent_total", "Payload bytes of the messages sent to devices", (s) => s.bytesOut);

  const handshakeSeconds = new Histogram({
    name: "lwstcp_handshake_duration_seconds",
    help: "Time from accepting a connection to its handshake's success, by profile",
    labelNames: ["profile"],
    buckets: HANDSHAKE_BUCKETS,
    registers: [registry],
  });
  const sessionSeconds = new Histogram({
    name: "lwstcp_session_duration_seconds",
    help: "How long sessions lasted, by profile (observed when they end)",
    labelNames: ["profile"],
    buckets: SESSION_BUCKETS,
    registers: [registry],
  });
  const observer: DurationObserver = {
    handshake: (profile, seconds) => handshakeSeconds.observe({ profile }, seconds),
    sessionEnded: (profile, seconds) => sessionSeconds.observe({ profile }, seconds),
  };
  stats.addObserver(observer);
  collectDefaultMetrics({ register: registry });
  // These walk every handle or file descriptor of the process synchronously at each scrape:
  // with 2,000 sessions that took 25 ms (measured), time the sessions' event loop would wait.
  for (const name of WALKING_METRICS) registry.removeSingleMetric(name);
  return { registry, detach: () => stats.removeObserver(observer) };
}
