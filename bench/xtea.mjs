// XTEA256 throughput: our core cipher on Node against a C++ baseline (bench/reference/
// xtea256.cpp, the C++ library's shape) measured in the same run on the same machine. Both
// sides are timed in process CPU time and alternate, best of several trials, so the load of a
// shared machine hurts neither side more than the other.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_KEY_WORDS, parseKey } from "../build/firmware/core/keys.js";
import { createKeySchedule, encryptBlocks } from "../build/firmware/core/xtea.js";
import { measureDeviceOps } from "./device-ops.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function nodeThroughput(messageBytes, seconds) {
  const schedule = createKeySchedule(parseKey(DEMO_KEY_WORDS), 32);
  const buf = new Uint8Array(messageBytes).fill(0x41);
  let bytes = 0;
  const start = cpuSeconds();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 64; i++) {
      encryptBlocks(schedule, buf, 0, messageBytes);
      bytes += messageBytes;
    }
    elapsed = cpuSeconds() - start;
  }
  return bytes / 1e6 / elapsed;
}

function buildBaseline() {
  const binary = join(mkdtempSync(join(tmpdir(), "lwstcp-bench-")), "xtea256");
  execFileSync("g++", ["-O2", "-o", binary, join(here, "reference", "xtea256.cpp")]);
  return binary;
}

/** Best of `trials` alternating runs of each side, so both see the same machine load. */
export function benchXtea({ quick = false } = {}) {
  const seconds = quick ? 0.25 : 0.5;
  const trials = quick ? 3 : 7;
  const messageBytes = 4096;
  const binary = buildBaseline();
  let ours = 0;
  let baseline = 0;
  nodeThroughput(messageBytes, 0.2); // warm the JIT
  for (let t = 0; t < trials; t++) {
    ours = Math.max(ours, nodeThroughput(messageBytes, seconds));
    const out = JSON.parse(execFileSync(binary, [String(messageBytes), String(seconds)], { encoding: "utf8" }));
    baseline = Math.max(baseline, out.mbPerSecond);
  }
  return {
    name: "Node XTEA256 encrypt (4 KB messages, 32 rounds, CPU time)",
    unit: "MB/s",
    ours: +ours.toFixed(1),
    baseline: +baseline.toFixed(1),
    baselineName: "C++ baseline (bench/reference/xtea256.cpp, g++ -O2), same run",
    ratio: +(ours / baseline).toFixed(2),
    target: 0.9,
  };
}

/**
 * Device XTEA, counted not timed (CI has no Espruino): operations, tokens lexed and characters
 * lexed per 8-byte block at 32 rounds, the bundle's cipher against the straightforward form
 * (bench/device-ops.mjs). Higher ratio = fewer per block than the straightforward form.
 */
export async function benchDeviceXtea() {
  const { forms } = await measureDeviceOps();
  const [straight, straightMin, bundle] = forms;
  const row = (what, key, target) => ({
    name: `Device XTEA per block: ${what} (proxy, counted in a Node evaluator)`,
    unit: what,
    ours: bundle[key],
    baseline: straight[key],
    baselineName: `straightforward form as written (bench/device/xtea-straightforward.js); minified: ${straightMin[key]}`,
    ratio: +(straight[key] / bundle[key]).toFixed(2),
    target,
    lowerIsBetter: true,
  });
  return [row("operations", "nodes", 2), row("tokens lexed", "tokens"), row("chars lexed", "chars")];
}
