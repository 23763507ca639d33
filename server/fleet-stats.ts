// The fleet's counters for one server: what /metrics and the stats line both read. Message and
// byte counts live on each Session as plain fields (two additions per message, nothing else on
// the hot path); this object adds what ended sessions carried to running totals when they end,
// and counts handshakes and refusals from the server's events, which fire once per connection.
// Reading (snapshot) walks the open sessions: work done when asked, not per message.

import type { Profile } from "./config.js";
import type { HandshakeResult } from "./handshake-result.js";
import type { LightweightSecureServer, RefusedConnection } from "./server.js";
import type { Session } from "./session.js";

/** Messages and payload bytes each way; "in" is from the devices (up), "out" to them (down). */
export interface Traffic {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface FleetSnapshot extends Traffic {
  /** When it was taken (ms since the epoch). */
  at: number;
  /** Open sessions, all and by profile. */
  sessions: number;
  sessionsByProfile: Record<Profile, number>;
  handshakesSucceeded: number;
  /** Failed handshakes by reason ("proof-failed", "handshake-timeout", …). */
  handshakesFailed: Record<string, number>;
  /** Refused connections by reason ("session-limit", "address-limit", …). */
  refused: Record<string, number>;
  sessionsEnded: number;
}

/** Told of each finished handshake and each ended session, with how long it took (seconds). */
export interface DurationObserver {
  handshake(profile: Profile, seconds: number): void;
  sessionEnded(profile: Profile, seconds: number): void;
}

export class FleetStats {
  readonly server: LightweightSecureServer;
  private handshakesSucceeded = 0;
  private sessionsEnded = 0;
  private readonly handshakesFailed = new Map<string, number>();
  private readonly refused = new Map<string, number>();
  /** What sessions that have ended carried. */
  private readonly ended: Traffic = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  private readonly observers: DurationObserver[] = [];
  private readonly onSession = (session: Session) => this.opened(session);
  private readonly onFailed = (result: HandshakeResult) => bump(this.handshakesFailed, result.reason);
  private readonly onRefused = (refused: RefusedConnection) => bump(this.refused, refused.reason);

  constructor(server: LightweightSecureServer) {
    this.server = server;
    server.on("session", this.onSession);
    server.on("handshakeFailed", this.onFailed);
    server.on("refused", this.onRefused);
    // Sessions already open when counting starts (a monitor added to a running server).
    for (const session of server.sessions) this.watch(session);
  }

  /** Stops counting (the server's listeners are removed). */
  detach(): void {
    this.server.removeListener("session", this.onSession);
    this.server.removeListener("handshakeFailed", this.onFailed);
    this.server.removeListener("refused", this.onRefused);
  }

  addObserver(observer: DurationObserver): void {
    this.observers.push(observer);
  }

  removeObserver(observer: DurationObserver): void {
    const at = this.observers.indexOf(observer);
    if (at >= 0) this.observers.splice(at, 1);
  }

  snapshot(now: number = Date.now()): FleetSnapshot {
    const byProfile: Record<Profile, number> = { v1: 0, v2: 0 };
    let { messagesIn, messagesOut, bytesIn, bytesOut } = this.ended;
    const sessions = this.server.sessions;
    for (const session of sessions) {
      byProfile[session.profile]++;
      messagesIn += session.messagesIn;
      messagesOut += session.messagesOut;
      bytesIn += session.bytesIn;
      bytesOut += session.bytesOut;
    }
    return {
      at: now,
      sessions: sessions.length,
      sessionsByProfile: byProfile,
      handshakesSucceeded: this.handshakesSucceeded,
      handshakesFailed: Object.fromEntries(this.handshakesFailed),
      refused: Object.fromEntries(this.refused),
      sessionsEnded: this.sessionsEnded,
      messagesIn,
      messagesOut,
      bytesIn,
      bytesOut,
    };
  }

  private opened(session: Session): void {
    this.handshakesSucceeded++;
    const seconds = Math.max(0, session.connectedAt - session.acceptedAt) / 1000;
    for (const observer of this.observers) observer.handshake(session.profile, seconds);
    this.watch(session);
  }

  private watch(session: Session): void {
    session.once("ended", () => {
      const ended = this.ended;
      ended.messagesIn += session.messagesIn;
      ended.messagesOut += session.messagesOut;
      ended.bytesIn += session.bytesIn;
      ended.bytesOut += session.bytesOut;
      this.sessionsEnded++;
      const seconds = Math.max(0, Date.now() - session.connectedAt) / 1000;
      for (const observer of this.observers) observer.sessionEnded(session.profile, seconds);
    });
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The one FleetStats of each server, so the stats line and every monitor share its counters. */
const fleets = new WeakMap<LightweightSecureServer, FleetStats>();

export function fleetStats(server: LightweightSecureServer): FleetStats {
  let stats = fleets.get(server);
  if (!stats) {
    stats = new FleetStats(server);
    fleets.set(server, stats);
  }
  return stats;
}

/** Rates over the time between two snapshots, and the current session counts: the stats line's numbers. */
export interface StatsSummary {
  sessions: number;
  v1: number;
  v2: number;
  handshakesPerMin: number;
  handshakesFailed: number;
  msgsPerSecUp: number;
  msgsPerSecDown: number;
  refused: number;
}

function total(counts: Record<string, number>): number {
  let sum = 0;
  for (const key of Object.keys(counts)) sum += counts[key];
  return sum;
}

function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The summary of what happened from `before` to `after` (failures and refusals: counts in that time). */
export function summarize(before: FleetSnapshot, after: FleetSnapshot): StatsSummary {
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  return {
    sessions: after.sessions,
    v1: after.sessionsByProfile.v1,
    v2: after.sessionsByProfile.v2,
    handshakesPerMin: oneDecimal(((after.handshakesSucceeded - before.handshakesSucceeded) * 60) / seconds),
    handshakesFailed: total(after.handshakesFailed) - total(before.handshakesFailed),
    msgsPerSecUp: oneDecimal((after.messagesIn - before.messagesIn) / seconds),
    msgsPerSecDown: oneDecimal((after.messagesOut - before.messagesOut) / seconds),
    refused: total(after.refused) - total(before.refused),
  };
}

/** The stats line as people read it: "sessions 12 (v1 3, v2 9) · handshakes/min 4 · …". */
export function statsLine(s: StatsSummary): string {
  return (
    "sessions " +
    s.sessions +
    " (v1 " +
    s.v1 +
    ", v2 " +
    s.v2 +
    ") · handshakes/min " +
    s.handshakesPerMin +
    " (failed " +
    s.handshakesFailed +
    ") · msgs/s up " +
    s.msgsPerSecUp +
    " down " +
    s.msgsPerSecDown +
    " · refused " +
    s.refused
  );
}

/**
 * Calls `report` every `intervalMs` with the summary of that interval; returns the stop
 * function. The timer never keeps the process alive on its own.
 */
export function everyInterval(stats: FleetStats, intervalMs: number, report: (summary: StatsSummary) => void): () => void {
  let before = stats.snapshot();
  const timer = setInterval(() => {
    const after = stats.snapshot();
    report(summarize(before, after));
    before = after;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
