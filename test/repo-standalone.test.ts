// The repository is the whole product: a plain clone, with nothing beside it, builds and tests.
// Two checks: no tracked file refers to a folder beside the repository (the project's reference
// material used to live in one), and the tests that read the repository's data files (the C++
// vectors, the v2 vectors, the globals list, the bundles) pass in a copy of the tracked files
// placed alone in an empty temporary folder. A CI clone may well have such a folder beside it,
// which is why the second check runs where there is none, rather than trusting the checkout.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "./helpers/vectors.js";

/** The sibling folder name, spelled so that this file does not contain it. */
const SIBLING = [".." + "/", "shared"].join("");
/** The only tracked file allowed to name it: CI's entry point may use the real interpreter there. */
const ALLOWED = new Set([".ci/run"]);

/** Test files that read data files of the repository; all must pass in the lone copy. */
const DATA_TESTS = [
  "core-packets",
  "core-xtea",
  "core-xtea-device",
  "core-handshake",
  "core-keys-utf8",
  "core-allocation",
  "v2-vectors",
  "v2-connection",
  "v2-cost",
  "firmware-check",
  "perf-device-xtea",
  "perf-device-memory",
];

function trackedFiles(): string[] {
  const run = spawnSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(run.status, 0, "git ls-files: " + run.stderr);
  return run.stdout.split("\0").filter((f) => f !== "");
}

describe("the repository stands alone", function () {
  this.timeout(180000);

  before(function () {
    // A copy without git history (an unpacked archive) has nothing to list.
    if (!existsSync(join(repoRoot, ".git"))) this.skip();
  });

  it(`no tracked file but .ci/run refers to ${SIBLING}`, () => {
    const files = trackedFiles();
    assert.ok(files.length > 50 && files.includes("package.json"), "git ls-files lists the repository");
    const offenders: string[] = [];
    for (const file of files) {
      if (ALLOWED.has(file)) continue;
      const path = join(repoRoot, file);
      if (!existsSync(path) || !lstatSync(path).isFile()) continue; // deleted in the work tree, or a symlink
      const text = readFileSync(path, "latin1");
      let at = text.indexOf(SIBLING);
      while (at >= 0) {
        offenders.push(`${file}:${text.slice(0, at).split("\n").length}`);
        at = text.indexOf(SIBLING, at + 1);
      }
    }
    assert.deepEqual(offenders, [], `tracked files that refer to ${SIBLING}`);
  });

  it("the data-reading tests pass in a copy of the tracked files alone in an empty folder", () => {
    const lonely = mkdtempSync(join(tmpdir(), "lwstcp-alone-"));
    try {
      const copy = join(lonely, "lwstcp");
      for (const file of trackedFiles()) {
        const from = join(repoRoot, file);
        if (!existsSync(from) || !lstatSync(from).isFile()) continue;
        mkdirSync(dirname(join(copy, file)), { recursive: true });
        cpSync(from, join(copy, file));
      }
      // What `npm ci` would make: the installed packages (linked, not copied) and the build.
      symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"), "dir");
      cpSync(join(repoRoot, "build"), join(copy, "build"), { recursive: true });
      cpSync(join(repoRoot, "dist"), join(copy, "dist"), { recursive: true });
      assert.deepEqual(readdirSync(lonely), ["lwstcp"], "nothing beside the copy");

      const specs = DATA_TESTS.map((name) => join("build", "test", name + ".test.js"));
      for (const spec of specs) assert.ok(existsSync(join(copy, spec)), spec + " is built");
      const run = spawnSync(
        process.execPath,
        [
          join("node_modules", "mocha", "bin", "mocha.js"),
          "--no-config",
          "--require",
          "build/test/helpers/seed.js",
          "--reporter",
          "json",
          "--timeout",
          "60000",
          ...specs,
        ],
        { cwd: copy, encoding: "utf8", timeout: 150000, maxBuffer: 64 * 1024 * 1024 },
      );
      const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{\n  "stats"'))) as {
        stats: { tests: number; passes: number; failures: number };
        failures: Array<{ fullTitle: string; err: { message: string } }>;
      };
      const failed = report.failures.map((f) => f.fullTitle + ": " + f.err.message).join("\n");
      assert.equal(report.stats.failures, 0, "failures in the lone copy:\n" + failed + "\n" + run.stderr);
      assert.equal(run.status, 0, run.stderr);
      assert.ok(report.stats.passes > 100, `ran ${report.stats.passes} tests`);
      assert.equal(report.stats.passes, report.stats.tests);
    } finally {
      rmSync(lonely, { recursive: true, force: true });
    }
  });
});
