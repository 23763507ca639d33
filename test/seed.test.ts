// Runs are repeatable: LWSTCP_SEED decides every property's inputs, a failing property prints the
// seed beside its shrunk counterexample, and that seed replays the same failure. Proved on a
// fixture property that always fails, in a child mocha as a developer would run it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DEFAULT_SEED, parseSeed, SEED, seededBytes, testBytes } from "./helpers/seed.js";
import { repoRoot } from "./helpers/vectors.js";

const mocha = createRequire(import.meta.url).resolve("mocha/bin/mocha.js");
const fixture = join(repoRoot, "build", "test", "fixtures", "failing-property.js");
const hooks = join(repoRoot, "build", "test", "helpers", "seed.js");

function runFixture(seed: string | undefined): { status: number | null; out: string } {
  const env = { ...process.env };
  if (seed === undefined) delete env.LWSTCP_SEED;
  else env.LWSTCP_SEED = seed;
  const run = spawnSync(process.execPath, [mocha, "--no-config", "--reporter", "spec", "--require", hooks, fixture], {
    cwd: repoRoot,
    env,
    encoding: "utf8",
    timeout: 60000,
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

/** The seed, path and counterexample lines fast-check printed. */
function failureReport(out: string): { seed: string; path: string; counterexample: string } {
  const m = /\{ seed: (-?\d+), path: "([^"]*)"[^}]*\}\s*\nCounterexample: (.*)/.exec(out);
  assert.ok(m, "fast-check's failure report in:\n" + out);
  return { seed: m[1], path: m[2], counterexample: m[3] };
}

describe("reproducible runs (LWSTCP_SEED)", function () {
  this.timeout(120000);

  it("reads the seed: unset gives the default, an integer itself, 'random' a fresh one; anything else is refused", () => {
    assert.equal(parseSeed(undefined), DEFAULT_SEED);
    assert.equal(parseSeed(""), DEFAULT_SEED);
    assert.equal(parseSeed("1234"), 1234);
    assert.equal(parseSeed("-7"), -7);
    const drawn = parseSeed("random");
    assert.ok(Number.isInteger(drawn) && drawn >= 0 && drawn < 2 ** 31);
    for (const bad of ["abc", "1.5", "0x10", "2147483648", "-2147483649"]) {
      assert.throws(() => parseSeed(bad), /LWSTCP_SEED must be an integer from -2147483648 to 2147483647, or "random"/, bad);
    }
  });

  it("test bytes follow the seed: a stream per test, a fixed value per label", () => {
    assert.equal(seededBytes("a label", 16).toString("hex"), seededBytes("a label", 16).toString("hex"));
    assert.notEqual(seededBytes("a label", 16).toString("hex"), seededBytes("another label", 16).toString("hex"));
    const first = testBytes(40);
    const second = testBytes(40);
    assert.notDeepEqual(first, second, "the stream moves on");
    assert.equal(typeof SEED, "number");
  });

  it("a failing property prints the seed and the shrunk counterexample; the same LWSTCP_SEED replays it", () => {
    const first = runFixture("1234");
    assert.notEqual(first.status, 0, "the fixture fails");
    const report = failureReport(first.out);
    assert.equal(report.seed, "1234", "fast-check names the seed LWSTCP_SEED gave");
    assert.match(first.out, /failed with LWSTCP_SEED=1234; set LWSTCP_SEED=1234/);
    assert.match(report.counterexample, /^\[\[\d+,\d+,\d+\]\]$/);
    const again = failureReport(runFixture(report.seed).out);
    assert.deepEqual(again, report, "the same seed, the same path and counterexample");
  });

  it("without LWSTCP_SEED the run uses the fixed default; LWSTCP_SEED=random prints the seed it drew, and that seed replays it", () => {
    const byDefault = runFixture(undefined);
    assert.equal(failureReport(byDefault.out).seed, String(DEFAULT_SEED));
    assert.match(byDefault.out, new RegExp(`test inputs: LWSTCP_SEED=${DEFAULT_SEED} \\(the default\\)`));
    const random = runFixture("random");
    const announced = /test inputs: LWSTCP_SEED=(\d+) \(drawn at random\)/.exec(random.out);
    assert.ok(announced, random.out);
    const report = failureReport(random.out);
    assert.equal(report.seed, announced[1]);
    assert.deepEqual(failureReport(runFixture(announced[1]).out), report);
  });
});
