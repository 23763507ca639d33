// XTEA256 throughput: our core cipher on Node against a C++ baseline (bench/reference/
// xtea256.cpp, the C++ library's shape) measured in the same run on the same machine.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createKeySchedule, encryptBlocks } from "../build/firmware/core/xtea.js";
import { DEMO_KEY_WORDS, parseKey } from "../build/firmware/core/keys.js";

const here = fileURLToPath(new URL(".", import.meta.url));

function nodeThroughput(messageBytes, seconds) {
  const schedule = createKeySchedule(parseKey(DEMO_KEY_WORDS), 32);
  const buf = new Uint8Array(messageBytes).fill(0x41);
  let bytes = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 64; i++) {
      encryptBlocks(schedule, buf, 0, messageBytes);
      bytes += messageBytes;
    }
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
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
  const seconds = quick ? 0.25 : 1;
  const trials = quick ? 2 : 3;
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
    name: "Node XTEA256 encrypt (4 KB messages, 32 rounds)",
    unit: "MB/s",
    ours: +ours.toFixed(1),
    baseline: +baseline.toFixed(1),
    baselineName: "C++ baseline (bench/reference/xtea256.cpp, g++ -O2)",
    ratio: +(ours / baseline).toFixed(2),
    target: 0.9,
  };
}
