// The end-of-run summary of simulated devices, from their library events (library-events.ts),
// so it is right for any app: per device and in total, and the verdict. A run passed when every
// device completed at least one handshake and none had an uncaught error, a throwing callback
// or stopped on its own (out of memory, interpreter crash).
import type { Device } from "./device.js";

/** Why handshakes failed, in words a user can act on (by reason). */
const LIKELY_CAUSE: Record<string, string> = {
  "peer-closed": "most likely a different key or rounds than the server",
  "verify-failed": "most likely a different key or rounds than the server",
  "wrong-type": "most likely a different key or rounds than the server",
  "bad-size": "most likely a different key or rounds than the server",
  "proof-failed": "most likely a different key than the server",
  "profile-mismatch": "most likely a different profile (v1/v2) than the server",
  "unknown-type": "most likely a different profile (v1/v2) than the server",
  "handshake-timeout": "the peer did not finish the handshake: is it an lwstcp peer with the same profile?",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function sumValues(table: Record<string, number>): number {
  return Object.values(table).reduce((a, b) => a + b, 0);
}

function merge(tables: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const table of tables) for (const [key, n] of Object.entries(table)) out[key] = (out[key] ?? 0) + n;
  return out;
}

/** "peer-closed 3, verify-failed 1" (most first), or "" when empty. */
function byReason(table: Record<string, number>): string {
  return Object.entries(table)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
}

/** One device's line (without the "[name] " prefix). */
export function deviceSummary(device: Device): string {
  const c = device.library.counts;
  const failures = sumValues(c.handshakeFailures);
  const parts = [
    `handshakes ${c.handshakes}`,
    `handshake failures ${failures}${failures ? ` (${byReason(c.handshakeFailures)})` : ""}`,
    `messages sent ${c.messagesSent}`,
    `received ${c.messagesReceived}`,
    `reconnects ${c.reconnects}`,
    `connect failures ${c.connectFailures}`,
    `errors ${c.errors}`,
    `callback errors ${c.callbackErrors}`,
    `uncaught errors ${device.uncaught.length}`,
    `peak JsVars ${device.peakJsVars}/${device.memory().total}`,
  ];
  if (device.failure) parts.push(`STOPPED ${device.failure.kind}: ${device.failure.message}`);
  return parts.join(", ");
}

/** What made the run fail; empty when it passed. `target` names where clients connect ("127.0.0.1:12345"). */
export function runProblems(devices: readonly Device[], target: string): string[] {
  const problems: string[] = [];
  const shook = devices.filter((d) => d.library.counts.handshakes > 0).length;
  if (shook < devices.length) {
    const idle = devices.filter((d) => d.library.counts.handshakes === 0);
    const failures = merge(idle.map((d) => d.library.counts.handshakeFailures));
    const failed = sumValues(failures);
    const connectFailures = idle.reduce((n, d) => n + d.library.counts.connectFailures, 0);
    let why: string;
    if (failed > 0) {
      const [top] = Object.entries(failures).sort((a, b) => b[1] - a[1]);
      const cause = LIKELY_CAUSE[top[0]] ?? `the most common reason was ${top[0]}`;
      why = `${plural(failed, "handshake failure")}, ${cause}`;
    } else if (connectFailures > 0) {
      why = `${plural(connectFailures, "connection attempt")} to ${target} failed: is the server running (npm start)?`;
    } else if (idle.every((d) => d.library.counts.clients + d.library.counts.servers === 0)) {
      why = "the app made no lwstcp client or server (did it start? see its console above)";
    } else {
      why = "no peer completed a handshake with it";
    }
    problems.push(`${shook} of ${plural(devices.length, "device")} completed a handshake: ${why}`);
  }
  for (const d of devices) {
    if (d.uncaught.length) problems.push(`${d.name}: ${plural(d.uncaught.length, "uncaught error")} (first: ${d.uncaught[0].printed.split("\n")[0]})`);
    if (d.library.counts.callbackErrors) problems.push(`${d.name}: ${plural(d.library.counts.callbackErrors, "app callback")} threw`);
    if (d.failure) problems.push(`${d.name} stopped: ${d.failure.kind}: ${d.failure.message}`);
  }
  return problems;
}

/** The total line (without "summary: "). */
export function totalSummary(devices: readonly Device[]): string {
  const counts = devices.map((d) => d.library.counts);
  const total = (pick: (c: (typeof counts)[number]) => number) => counts.reduce((n, c) => n + pick(c), 0);
  const failures = merge(counts.map((c) => c.handshakeFailures));
  const failed = sumValues(failures);
  const shook = counts.filter((c) => c.handshakes > 0).length;
  return [
    `${plural(devices.length, "device")}`,
    `${shook} completed a handshake`,
    `handshakes ${total((c) => c.handshakes)}`,
    `handshake failures ${failed}${failed ? ` (${byReason(failures)})` : ""}`,
    `messages sent ${total((c) => c.messagesSent)}`,
    `received ${total((c) => c.messagesReceived)}`,
    `reconnects ${total((c) => c.reconnects)}`,
    `peak JsVars ${Math.max(0, ...devices.map((d) => d.peakJsVars))}`,
  ].join(", ");
}
