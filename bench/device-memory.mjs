// JsVars of the device library in the same scenarios on the real Espruino interpreter (the
// Linux build named by ESPRUINO) and in the simulator's estimate (host-sim/memory.ts): library
// loaded idle, one session idle, the peak while a 4 KB and a 65,528-byte message is delivered,
// and one session idle after 20 reconnects. One app text runs on both, against one
// lwstcp-server --mode echo process; it prints "mem <scenario> <process.memory().usage>".
//   ESPRUINO=/path/to/espruino node bench/device-memory.mjs     (prints the table of docs/DEVICE-MEMORY.md)
import { createDevice } from "../build/host-sim/device.js";
import { cachedModules, flashedV1Storage, runEspruino } from "../build/test/helpers/espruino-process.js";
import { freePort } from "../build/test/helpers/host-sim.js";
import { DEMO_KEY_HEX, startLwstcpServer } from "../build/test/helpers/processes.js";

export const SCENARIOS = ["boot", "loaded", "session", "peak-4096", "peak-65528", "reconnect-20"];

/** The app: each scenario's usage printed as "mem NAME N"; "mem done" at the end. */
export function memoryApp(port, { inline } = {}) {
  return `print("mem boot " + process.memory().usage);
${inline ? cachedModules(flashedV1Storage()) : ""}var lw = require("lwstcp"); lw.setHandshakeKey("${DEMO_KEY_HEX}");
print("mem loaded " + process.memory().usage);
var c = new lw.LightweightSecureClient("127.0.0.1", ${port});
var step = 0, reconnects = 0, failed = "";
function make(n) { var a = new Uint8Array(n); a.fill(65); return a; }
c.setOnHandshakeSuccess(function () {
  if (step === 0) setTimeout(function () { print("mem session " + process.memory().usage); step = 1; c.sendMessage(make(4096)); }, 200);
  else if (reconnects < 20) c.disconnect();
  else setTimeout(function () { print("mem reconnect-20 " + process.memory().usage); print("mem done"); c.disconnect(); }, 200);
});
c.setOnDisconnected(function (reason) {
  if (step === 2 && reason === "local-disconnect" && reconnects < 20) { reconnects++; setTimeout(function () { c.connectToServer(); }, 0); }
  else if (step !== 2) print("mem failed disconnected " + reason);
});
c.setOnError(function (text) { print("mem failed error " + text); });
c.setOnMessageReceived(function (text) {
  // Measured inside the callback, while the framer's buffer and the message are held.
  print("mem peak-" + text.length + " " + process.memory().usage);
  if (text.length === 4096) setTimeout(function () { c.sendMessage(make(65528)); }, 0);
  else { step = 2; c.disconnect(); }
});
c.connectToServer();`;
}

function readings(lines) {
  const out = {};
  for (const l of lines) {
    const m = /^mem (\S+) (.*)$/.exec(l);
    if (m) out[m[1]] = /^\d+$/.test(m[2]) ? Number(m[2]) : m[2];
  }
  return out;
}

export async function onInterpreter(port, inline) {
  const run = await runEspruino(memoryApp(port, { inline }), inline ? {} : { storage: flashedV1Storage() });
  try {
    await Promise.race([run.waitFor(/^mem done$/, 60000), run.waitFor(/^mem failed /, 60000)]).catch(() => {});
    const result = readings(run.lines());
    const errors = run.lines().filter((l) => /ERROR|Uncaught/.test(l));
    if (errors.length) result.errors = errors.join("; ");
    return result;
  } finally {
    await run.stop();
  }
}

export async function onSimulator(port, inline) {
  const lines = [];
  const storage = inline ? {} : flashedV1Storage();
  const device = createDevice({ name: "mem", storage, wifi: { connectedAtBoot: true }, console: (l) => lines.push(l), memoryCheckMs: 20 });
  try {
    device.run(memoryApp(port, { inline }), "memory-app.js");
    await Promise.race([device.waitForConsole(/^mem done$/, 60000), device.waitForConsole(/^mem failed /, 60000)]).catch(() => {});
    const result = readings(lines);
    if (device.failure) result.errors = device.failure.kind + ": " + device.failure.message;
    return result;
  } finally {
    device.stop();
  }
}

/** Both sides, the library from Storage (as flashed) and inlined in the app (its code in RAM on every board). */
export async function measureDeviceMemory() {
  const port = await freePort();
  const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "echo", "--quiet"]);
  try {
    return {
      interpreter: await onInterpreter(port, false),
      interpreterInline: await onInterpreter(port, true),
      simulator: await onSimulator(port, false),
      simulatorInline: await onSimulator(port, true),
    };
  } finally {
    server.child.kill("SIGKILL");
  }
}

/** ESP32's JsVar is 14 bytes (what host-sim prices strings and buffers at); this Linux build reports blocksize 27. */
const ESP32_BLOCK = 14;
const LINUX_BLOCK = 27;

/**
 * The markdown table of docs/DEVICE-MEMORY.md: each scenario's step over the one before it, on
 * each side; for steps made of message bytes the simulator's step is also shown in Linux blocks
 * (× 14/27), since both count the same bytes in blocks of a different size.
 */
export function memoryTable({ interpreter: i, simulator: s, interpreterInline: ii, simulatorInline: si }) {
  const steps = [
    ["library loaded, idle (Storage module)", "loaded", "boot", "objects"],
    ["one session, idle", "session", "loaded", "objects"],
    ["peak while a 4,096-byte message is delivered", "peak-4096", "session", "bytes"],
    ["peak while a 65,528-byte message is delivered", "peak-65528", "session", "bytes"],
    ["one session idle after 20 reconnects", "reconnect-20", "session", "objects"],
  ];
  const rows = [
    "| scenario | interpreter: usage | simulator: usage | interpreter: step | simulator: step | simulator step in Linux blocks | interpreter / simulator |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  rows.push(`| start-up (before the app's first line) | ${i.boot} | ${s.boot} | | | | |`);
  for (const [label, name, from, kind] of steps) {
    const di = i[name] - i[from];
    const ds = s[name] - s[from];
    const scaled = kind === "bytes" ? Math.round((ds * ESP32_BLOCK) / LINUX_BLOCK) : ds;
    const ratio = scaled === 0 ? (di === 0 ? "equal (0)" : "—") : (di / scaled).toFixed(2);
    rows.push(`| ${label} | ${i[name]} | ${s[name]} | ${di} | ${ds} | ${kind === "bytes" ? scaled : ""} | ${ratio} |`);
  }
  rows.push(
    `| library inlined in the app (code in RAM on both): loaded | ${ii.loaded} | ${si.loaded} | ${ii.loaded - ii.boot} | ${si.loaded - si.boot} | | ${((ii.loaded - ii.boot) / (si.loaded - si.boot)).toFixed(2)} |`,
  );
  return rows.join("\n");
}

if (process.argv[1] && process.argv[1].endsWith("device-memory.mjs")) {
  if (!process.env.ESPRUINO) {
    console.error("device-memory: set ESPRUINO to the Espruino interpreter");
    process.exit(2);
  }
  const r = await measureDeviceMemory();
  console.log(JSON.stringify(r));
  console.log(memoryTable(r));
}
