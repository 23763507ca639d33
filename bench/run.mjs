#!/usr/bin/env node
import { execSync } from "node:child_process";
// npm run bench [-- --quick] [-- --only xtea,server]: every measurement beside its baseline —
// from the same run where one can be made here, else an anchor figure from issue 7 (labelled
// so) — as a table and in bench/results.json. A missed target is flagged, not hidden. Not part
// of npm test. --quick (what CI may run) finishes in under a minute.
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { benchServer } from "./server.mjs";
import { benchDeviceXtea, benchXtea } from "./xtea.mjs";

const quick = process.argv.includes("--quick");
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? onlyArg.slice(7).split(",") : null;
const suites = { xtea: benchXtea, device: benchDeviceXtea, server: benchServer, profiles: (o) => import("./profiles.mjs").then((m) => m.benchProfiles(o)) };
const started = Date.now();
const loadBefore = loadavg();
const results = [];

/** met / MISSED for a row with a target: a ratio (ours/baseline, or baseline/ours when lower is better) or a limit on ours. */
function verdict(r) {
  if (r.target !== undefined) return r.ratio >= r.target ? "met" : "MISSED";
  if (r.limit !== undefined) return r.ours <= r.limit ? "met" : "MISSED";
  return "";
}

function print(r) {
  const base = r.baseline === undefined ? "" : ` | ${r.baselineName}: ${r.baseline}`;
  const ratio = r.ratio === undefined ? "" : ` | ratio ${r.ratio}`;
  const target = r.target !== undefined ? ` (target ≥ ${r.target}: ${verdict(r)})` : r.limit !== undefined ? ` (target ≤ ${r.limit}: ${verdict(r)})` : "";
  console.log(`${r.name}: ${r.ours} ${r.unit}${base}${ratio}${target}${r.note ? `\n    ${r.note}` : ""}`);
}

for (const [name, suite] of Object.entries(suites)) {
  if (only && !only.includes(name)) continue;
  const out = await suite({ quick });
  for (const r of Array.isArray(out) ? out : [out]) {
    r.verdict = verdict(r);
    results.push(r);
    print(r);
  }
}
let ulimit = "";
try {
  ulimit = execSync("ulimit -n", { shell: "/bin/sh", encoding: "utf8" }).trim();
} catch {}
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)),
  loadAverageAfter: loadavg().map((l) => +l.toFixed(2)),
  openFilesLimit: ulimit,
};
writeFileSync(
  new URL("./results.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), quick, seconds: Math.round((Date.now() - started) / 1000), machine, results }, null, 2) + "\n",
);
console.log(
  `\nmachine: ${machine.cpus}× ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverageBefore.join(" ")} before / ${machine.loadAverageAfter.join(" ")} after, ulimit -n ${ulimit}`,
);
console.log(`written: bench/results.json (${Math.round((Date.now() - started) / 1000)} s)`);
if (results.some((r) => r.verdict === "MISSED")) process.exitCode = 1;
