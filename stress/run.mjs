// npm run stress: loads far larger than npm test's, against the built code (build/, dist/), only on
// 127.0.0.1. Every scenario is bounded in count and in time; a scenario that runs out of time
// fails. Prints a table and writes stress/results.json (git-ignored).
//
//   node --expose-gc stress/run.mjs [--only name,name] [--scale 0.1] [--seed N] [--fuzz-seconds S]
//
// A scenario is one entry of `scenarios` below: an async function that gets the run's settings
// ({ scale, n, seed, fuzzSeconds, key }) and returns its row; --only and --help know every entry.
//
// Scenarios: silent (1,000 silent connections), slowloris (1,000), churn (10,000 cycles),
// resources (10,000 handshakes + 100,000 messages, heap and handles), device-jsvars (1,000
// reconnects of a simulated device), device-restart (server restart under 100 devices), fuzz
// (random and mutated input against the server; the seed is printed on failure).
// slow-reader and handshake-flood live in their own files (stress/*.mjs).

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { intFlag, listFlag, numberFlag, runTool } from "../build/server/cli/args.js";
import deviceHostile from "./device-hostile.mjs";
import prekeyMemory from "./prekey-memory.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const { LightweightSecureClient, LightweightSecureServer } = await import(join(root, "build/server/index.js"));
const H = await import(join(root, "build/test/helpers/reliability.js"));

// Set from the flags in main(), before any scenario runs.
let SCALE = 1;
let SEED = 0;
let FUZZ_SECONDS = 60;
const n = (count) => Math.max(1, Math.round(count * SCALE));
const KEY = randomBytes(32).toString("hex");
const gc = globalThis.gc;

let unexpected = [];
process.on("uncaughtException", (e) => unexpected.push("uncaught exception: " + (e && e.stack)));
process.on("unhandledRejection", (e) => unexpected.push("unhandled rejection: " + (e && e.stack)));

const rows = [];
let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 100);
sampler.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => Math.round(bytes / 1048576);
function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function bounded(promise, ms, what) {
  return H.withTimeout(promise, ms, what);
}
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out after " + ms + " ms waiting until " + what);
    await sleep(10);
  }
}
async function startServer(options = {}) {
  const server = new LightweightSecureServer(0, { host: "127.0.0.1", key: KEY, ...options });
  await server.start();
  return server;
}
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;
const liveConnections = (server) => server.drivers.size;

/** Honest handshakes one after another while busy(); returns their latencies (ms). */
async function honestLatencies(port, busy, failures) {
  const latencies = [];
  while (busy()) {
    const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY, handshakeTimeoutMs: 10000 });
    const t0 = performance.now();
    const result = await bounded(client.connectToServer(), 15000, "an honest handshake");
    if (result.success) latencies.push(performance.now() - t0);
    else failures.push("honest: " + result.reason);
    await client.disconnect();
    await sleep(20);
  }
  return latencies;
}

const scenarios = {
  async silent() {
    const count = n(1000);
    const server = await startServer({ handshakeTimeoutMs: 5000 });
    const reasons = [];
    server.on("handshakeFailed", (r) => reasons.push(r.reason));
    const sockets = [];
    for (let i = 0; i < count; i++) sockets.push(connect({ host: "127.0.0.1", port: server.port }).on("error", () => {}));
    const failures = [];
    let peakHandshakes = 0;
    const watch = setInterval(() => (peakHandshakes = Math.max(peakHandshakes, server.handshakeCount)), 20);
    const latencies = await honestLatencies(server.port, () => reasons.length < count, failures);
    await until(() => reasons.length >= count, 30000, "the silent connections to time out");
    clearInterval(watch);
    for (const r of reasons) if (r !== "handshake-timeout") failures.push("silent: " + r);
    for (const s of sockets) s.destroy();
    await until(() => liveConnections(server) === 0, 10000, "nothing left");
    await server.stop();
    return { inputs: count, connections: count + latencies.length, failures, latencies, note: "peak concurrent handshakes " + peakHandshakes };
  },

  async slowloris() {
    const count = n(1000);
    const server = await startServer({ handshakeTimeoutMs: 5000 });
    const reasons = [];
    server.on("handshakeFailed", (r) => reasons.push(r.reason));
    let stop = false;
    const slow = [];
    for (let i = 0; i < count; i++) {
      slow.push(
        (async () => {
          const raw = await H.rawSocket(server.port);
          const response = H.makeResponse(await raw.reader.read(25, 20000), H.schedule(KEY));
          for (let b = 0; b < response.length && !stop && !raw.reader.closed; b++) {
            raw.socket.write(response.subarray(b, b + 1));
            await sleep(1000);
          }
          raw.socket.destroy();
        })().catch(() => {}),
      );
      if (i % 100 === 99) await sleep(10);
    }
    const failures = [];
    const latencies = await honestLatencies(server.port, () => reasons.length < count, failures);
    await until(() => reasons.length >= count, 30000, "the slowloris connections to time out");
    stop = true;
    await Promise.all(slow);
    for (const r of reasons) if (r !== "handshake-timeout") failures.push("slowloris: " + r);
    await until(() => liveConnections(server) === 0, 10000, "nothing left");
    await server.stop();
    return { inputs: count, connections: count + latencies.length, failures, latencies, note: "one byte per second of a correct Response" };
  },

  async churn() {
    const count = n(10000);
    const server = await startServer();
    const failures = [];
    const deadline = Date.now() + 600000;
    for (let i = 0; i < count; i++) {
      if (Date.now() > deadline) throw new Error("churn ran out of time at cycle " + i);
      const client = new LightweightSecureClient("127.0.0.1", server.port, { key: KEY });
      const result = await bounded(client.connectToServer(), 10000, "cycle " + i);
      if (!result.success) failures.push("cycle " + i + ": " + result.reason);
      await client.disconnect();
    }
    await until(() => server.stats.sessionsEnded + server.stats.handshakesFailed >= count, 10000, "every cycle to end");
    if (server.stats.handshakesFailed) failures.push("server counted " + server.stats.handshakesFailed + " failed handshakes");
    await server.stop();
    return { inputs: count, connections: count, failures, note: "connect → handshake → Disconnect, back to back" };
  },

  async resources() {
    const handshakes = n(10000);
    const messages = n(100000);
    if (!gc) throw new Error("run with node --expose-gc");
    const baselineHandles = tcpHandles();
    gc();
    const baselineHeap = process.memoryUsage().heapUsed;
    const server = await startServer();
    server.on("session", (s) => s.on("message", (_t, bytes) => s.sendMessage(bytes)));
    const failures = [];
    const width = 50;
    const perClient = Math.ceil(messages / width);
    let done = 0;
    // 10,000 handshakes, 50 at a time; the first 50 sessions also carry the 100,000 messages.
    await H.inBatches(handshakes, width, async (i) => {
      const client = new LightweightSecureClient("127.0.0.1", server.port, { key: KEY });
      const result = await bounded(client.connectToServer(), 15000, "handshake " + i);
      if (!result.success) return failures.push("handshake " + i + ": " + result.reason);
      if (i < width) {
        let echoed = 0;
        const all = new Promise((resolve) => client.on("message", () => ++echoed === perClient && resolve()));
        for (let m = 0; m < perClient; m++) {
          if (!client.sendMessage("message " + m + " of client " + i)) await new Promise((r) => client.once("drain", r));
        }
        await bounded(all, 120000, "echoes of client " + i);
        done += echoed;
      }
      await client.disconnect();
    });
    await until(() => server.sessionCount === 0 && liveConnections(server) === 0, 10000, "every session released");
    await server.stop();
    await sleep(200);
    gc();
    await sleep(50);
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const handlesAfter = tcpHandles();
    if (handlesAfter > baselineHandles) failures.push("socket handles " + baselineHandles + " → " + handlesAfter);
    const growth = heapAfter - baselineHeap;
    if (growth > 8 * 1048576) failures.push("heap grew by " + mb(growth) + " MB");
    return {
      inputs: done,
      connections: handshakes,
      failures,
      note: "heap " + mb(baselineHeap) + " → " + mb(heapAfter) + " MB after gc; socket handles " + baselineHandles + " → " + handlesAfter,
    };
  },

  async "device-jsvars"() {
    const count = n(1000);
    const { bootFirmware, DEFAULT_LIBRARY_PATH } = await import(join(root, "build/host-sim/runner.js"));
    const server = await startServer();
    const failures = [];
    const program = `var lw = require("lwstcp"); lw.setHandshakeKey("${KEY}"); var current;
      function cycle(id) { var c = new lw.LightweightSecureClient("127.0.0.1", ${server.port}); c.setAutoReconnect(false);
        c.setOnHandshakeSuccess(function () { print("C" + id + " open"); c.disconnect(); });
        c.setOnHandshakeFailed(function (r) { print("C" + id + " failed " + r); });
        c.setOnDisconnected(function (r) { print("C" + id + " ended " + r); current = undefined; });
        current = c; c.connectToServer(); }`;
    const device = await bootFirmware({
      name: "jsvars",
      app: { source: program, filename: "stress.js" },
      library: { path: join(root, DEFAULT_LIBRARY_PATH) },
      wifi: { connectedAtBoot: true },
    });
    const idle = [];
    for (let i = 1; i <= count; i++) {
      device.run(`cycle(${i})`);
      const line = await device.waitForConsole(new RegExp(`^C${i} (failed|ended) `), 10000);
      if (!line.endsWith("ended local-disconnect")) failures.push(line);
      if (i === 1 || i % 100 === 0) {
        await sleep(30);
        idle.push(device.memory().usage);
      }
      // Keep the host-side console from growing without bound.
      device.consoleLines.length = 0;
    }
    if (device.uncaught.length || device.failure) failures.push("device: " + JSON.stringify({ uncaught: device.uncaught.length, failure: device.failure }));
    if (idle[idle.length - 1] - idle[0] >= 10) failures.push("JsVars at idle " + idle.join(", "));
    const peak = device.peakJsVars;
    device.stop();
    await server.stop();
    return { inputs: count, connections: count, failures, note: "idle JsVars every 100 cycles: " + idle.join(", ") + "; peak " + peak };
  },

  async "device-restart"() {
    const count = n(100);
    const { bootFirmware, DEFAULT_LIBRARY_PATH } = await import(join(root, "build/host-sim/runner.js"));
    let server = await startServer();
    const port = server.port;
    const program = `var lw = require("lwstcp"); lw.setHandshakeKey("${KEY}");
      var c = new lw.LightweightSecureClient("127.0.0.1", ${port}); c.setAutoReconnect(true, 1000, 8000);
      c.setOnHandshakeSuccess(function () { print("open"); });
      c.setOnDisconnected(function (r) { print("ended " + r); });
      c.connectToServer();`;
    const devices = [];
    for (let i = 0; i < count; i++) {
      devices.push(
        await bootFirmware({
          name: "d" + i,
          app: { source: program, filename: "stress.js" },
          library: { path: join(root, DEFAULT_LIBRARY_PATH) },
          wifi: { connectedAtBoot: true },
          memoryCheckMs: 2000,
        }),
      );
    }
    await until(() => server.sessionCount === count, 60000, count + " device sessions");
    await server.stop();
    const back = [];
    await sleep(100);
    server = new LightweightSecureServer(port, { host: "127.0.0.1", key: KEY });
    server.on("handshakeSuccess", () => back.push(Date.now()));
    const restartedAt = Date.now();
    await server.start();
    const failures = [];
    await until(() => back.length >= count, 60000, "every device to reconnect").catch((e) => failures.push(e.message));
    const offsets = back.map((t) => t - restartedAt);
    // The largest number of reconnections in any 100 ms window.
    let herd = 0;
    for (const t of back) herd = Math.max(herd, back.filter((u) => u >= t && u < t + 100).length);
    if (count >= 10 && herd === count) failures.push("all " + count + " reconnected within 100 ms");
    for (const d of devices) {
      if (d.uncaught.length || d.failure) failures.push(d.name + " misbehaved");
      d.stop();
    }
    await server.stop();
    return {
      inputs: count,
      connections: count * 2,
      failures,
      note: "reconnected after " + percentile(offsets, 0) + "–" + percentile(offsets, 100) + " ms; most in one 100 ms window: " + herd,
    };
  },

  "slow-reader": async () => (await import("./slow-reader.mjs")).default({ root, key: KEY, n }),
  "handshake-flood": async () => (await import("./handshake-flood.mjs")).default({ root, key: KEY, n }),

  async fuzz() {
    const server = await startServer({ handshakeTimeoutMs: 2000, inactivityTimeoutMs: 10000 });
    const outcomes = new Map();
    const delivered = new Map();
    server.on("handshakeStarted", (peer) => {
      outcomes.delete(peer);
      delivered.delete(peer);
    });
    server.on("handshakeFailed", (r) => outcomes.set(r.peer, r.reason));
    server.on("session", (s) => {
      delivered.set(s.peer, []);
      s.on("message", (_t, bytes) => delivered.get(s.peer).push(bytes));
      s.on("ended", (reason) => outcomes.set(s.peer, "ended:" + reason));
    });
    const honest = new LightweightSecureClient("127.0.0.1", server.port, { key: KEY });
    await honest.connectToServer();
    let inputs = 0;
    const deadline = Date.now() + FUZZ_SECONDS * 1000;
    const failures = [];
    const mutate = fc.record({
      where: fc.constantFrom("handshake", "session"),
      chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
      valid: fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 4 }),
      flips: fc.array(fc.nat(), { maxLength: 4 }),
    });
    try {
      await fc.assert(
        fc.asyncProperty(mutate, async ({ where, chunks, valid, flips }) => {
          inputs++;
          if (where === "handshake") {
            const raw = await H.rawSocket(server.port);
            const request = await raw.reader.read(25);
            // A correct Response with bits flipped, or random chunks.
            const response = H.makeResponse(request, H.schedule(KEY));
            const honestResponse = Buffer.from(response);
            for (const f of flips) response[1 + (f % 24)] ^= 1 << (f % 8);
            // Flips that cancel out leave the honest Response, which must open a session.
            const shouldOpen = flips.length > 0 && response.equals(honestResponse);
            raw.socket.write(flips.length ? Buffer.concat([response, ...chunks]) : Buffer.concat(chunks));
            raw.socket.end();
            await until(() => outcomes.has(raw.peer), 10000, "an outcome");
            raw.socket.destroy();
            const reason = outcomes.get(raw.peer);
            if (reason.startsWith("ended:") !== shouldOpen)
              throw new Error("fuzzed handshake outcome " + reason + (shouldOpen ? " for the honest Response" : ""));
          } else {
            const hand = await H.handHandshake(server.port, H.schedule(KEY));
            const packets = valid.map((v) => H.makeMessage(v, hand.sessionKey));
            hand.socket.write(Buffer.concat([...packets, ...chunks]));
            hand.socket.end();
            await until(() => outcomes.has(hand.peer), 10000, "an outcome");
            hand.socket.destroy();
            const got = delivered.get(hand.peer) || [];
            for (let i = 0; i < packets.length; i++)
              if (!got[i] || !got[i].equals(Buffer.from(valid[i]))) throw new Error("valid message " + i + " not delivered intact");
          }
          if (!honest.isConnected) throw new Error("the honest client lost its session");
        }),
        { seed: SEED, numRuns: 1000000, interruptAfterTimeLimit: FUZZ_SECONDS * 1000, endOnFailure: true },
      );
    } catch (e) {
      failures.push("seed " + SEED + ": " + String(e.message).split("\n").slice(0, 6).join(" | "));
    }
    if (Date.now() > deadline + 30000) failures.push("fuzz overran its time");
    await honest.disconnect();
    await server.stop();
    return { inputs, connections: inputs + 1, failures, note: "seed " + SEED + ", " + FUZZ_SECONDS + " s" };
  },

  "prekey-memory": () => prekeyMemory({ root, n, key: KEY }),
  "device-hostile": () => deviceHostile({ root, n, key: KEY }),
};

const SPEC = {
  program: "npm run stress",
  summary: "Large, bounded loads against the built server, client and simulated device on 127.0.0.1; writes stress/results.json.",
  usage: "-- [--only SCENARIO,...] [--scale X] [--seed N] [--fuzz-seconds S]   (or: node --expose-gc stress/run.mjs …)",
  flags: [
    { name: "only", value: "SCENARIO,...", help: "run only these scenarios: " + Object.keys(scenarios).join(", "), default: "all" },
    { name: "scale", value: "X", help: "multiply every count by X (0.001..100)", default: 1 },
    { name: "seed", value: "N", help: "seed of the fuzz scenario (printed on failure; the same seed reproduces it)", default: 42 },
    { name: "fuzz-seconds", value: "S", help: "how long the fuzz scenario runs", default: 60 },
  ],
  examples: ["npm run stress -- --only churn,fuzz --scale 0.1 --seed 42"],
};

async function main(flags) {
  const ONLY = listFlag(flags, "only", Object.keys(scenarios), "scenario");
  SCALE = numberFlag(flags, "scale", 0.001, 100) ?? 1;
  // Fixed by default, so a run repeats; printed in the header and in results.json.
  SEED = intFlag(flags, "seed", 0, 2147483646) ?? 42;
  FUZZ_SECONDS = numberFlag(flags, "fuzz-seconds", 1, 86400) ?? 60;
  const settings = { scale: SCALE, n, seed: SEED, fuzzSeconds: FUZZ_SECONDS, key: KEY };
  const names = Object.keys(scenarios).filter((name) => !ONLY || ONLY.includes(name));
  console.log("lwstcp stress: " + names.join(", ") + (SCALE !== 1 ? " at scale " + SCALE : "") + "; fuzz seed " + SEED);
  for (const name of names) {
    peakRss = process.memoryUsage().rss;
    peakHeap = process.memoryUsage().heapUsed;
    unexpected = [];
    const t0 = Date.now();
    let row;
    try {
      const r = await bounded(scenarios[name](settings), 900000, "scenario " + name);
      row = { scenario: name, ...r };
    } catch (e) {
      row = { scenario: name, inputs: 0, connections: 0, failures: [String(e && e.message)], note: "aborted" };
    }
    row.failures = [...row.failures, ...unexpected];
    row.seconds = Math.round((Date.now() - t0) / 100) / 10;
    row.peakRssMB = mb(peakRss);
    row.peakHeapMB = mb(peakHeap);
    if (row.latencies) {
      row.honestHandshakes = row.latencies.length;
      row.honestP50ms = Math.round(percentile(row.latencies, 50) * 10) / 10;
      row.honestP99ms = Math.round(percentile(row.latencies, 99) * 10) / 10;
      delete row.latencies;
    }
    rows.push(row);
    console.log(
      `${name}: ${row.failures.length ? "FAIL" : "ok"} in ${row.seconds} s — ${row.note}` +
        (row.failures.length ? "\n  " + row.failures.slice(0, 10).join("\n  ") : ""),
    );
    if (gc) gc();
  }

  const header = ["scenario", "inputs", "connections", "failures", "honest p50 / p99 ms", "peak RSS MB", "peak heap MB", "seconds"];
  const table = [
    header,
    ...rows.map((r) => [
      r.scenario,
      r.inputs,
      r.connections,
      r.failures.length,
      r.honestP50ms === undefined ? "" : r.honestP50ms + " / " + r.honestP99ms,
      r.peakRssMB,
      r.peakHeapMB,
      r.seconds,
    ]),
  ];
  const widths = header.map((_, c) => Math.max(...table.map((row) => String(row[c]).length)));
  console.log("\n" + table.map((row) => "| " + row.map((v, c) => String(v).padEnd(widths[c])).join(" | ") + " |").join("\n"));
  if (rows.length === 0) {
    console.error("npm run stress: no scenario ran; stress/results.json is left as it was");
    return 1;
  }
  writeFileSync(
    join(here, "results.json"),
    JSON.stringify({ date: new Date().toISOString(), node: process.version, scale: SCALE, seed: SEED, rows }, null, 2) + "\n",
  );
  console.log("\nwritten: stress/results.json");
  return rows.some((r) => r.failures.length) ? 1 : 0;
}

runTool(SPEC, (flags) => main(flags).then((code) => process.exit(code)));
