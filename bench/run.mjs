#!/usr/bin/env node
// npm run bench [-- --quick]: every measurement beside its baseline from the same run, as a
// table and in bench/results.json. A missed target is flagged, not hidden. Not part of npm test.
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { benchXtea } from "./xtea.mjs";

const quick = process.argv.includes("--quick");
const benches = [benchXtea];
const results = [];
for (const bench of benches) {
  const result = await bench({ quick });
  results.push(result);
  const verdict = result.target === undefined ? "" : result.ratio >= result.target ? "met" : "MISSED";
  console.log(
    `${result.name}: ours ${result.ours} ${result.unit}, ${result.baselineName} ${result.baseline} ${result.unit}, ratio ${result.ratio}` +
      (result.target === undefined ? "" : ` (target ≥ ${result.target}: ${verdict})`),
  );
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), quick, machine, results }, null, 2) + "\n");
console.log("\nwritten: bench/results.json");
if (results.some((r) => r.target !== undefined && r.ratio < r.target)) process.exitCode = 1;
