// Keeps the simulator from running stale bundles: when a firmware source (firmware/**/*.ts) is
// newer than a bundle of this package's dist/ that a run will load, dist/ is rebuilt with the
// package's own Rollup (as scripts/flash.mjs does), or the run is refused with a one-line hint
// when it cannot be. Bundles outside dist/ (an app a user built) are the user's to rebuild.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: this file is host-sim/fresh-bundles.ts, compiled to build/host-sim/fresh-bundles.js. */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/**
 * The newest firmware source under `root` — firmware/**\/*.ts, and scripts/xtea-unrolled.mjs,
 * which writes dist/lwstcp-xtea.js — or undefined when the package has no firmware sources.
 */
export function newestFirmwareSource(root: string): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        const mtimeMs = statSync(path).mtimeMs;
        if (!newest || mtimeMs > newest.mtimeMs) newest = { file: path, mtimeMs };
      }
    }
  };
  const firmware = join(root, "firmware");
  if (!existsSync(firmware)) return undefined;
  walk(firmware);
  const generator = join(root, "scripts", "xtea-unrolled.mjs");
  if (existsSync(generator)) {
    const mtimeMs = statSync(generator).mtimeMs;
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file: generator, mtimeMs };
  }
  return newest;
}

/** The bundles among `paths` that live in root/dist and are missing or older than a firmware source. */
export function staleBundles(paths: string[], root = PACKAGE_ROOT): { stale: string[]; source?: string } {
  const dist = join(root, "dist") + sep;
  const ours = paths.map((p) => resolve(p)).filter((p) => p.startsWith(dist));
  if (ours.length === 0) return { stale: [] };
  const source = newestFirmwareSource(root);
  if (!source) return { stale: [] };
  const stale = ours.filter((p) => !existsSync(p) || statSync(p).mtimeMs < source.mtimeMs);
  return { stale, source: source.file };
}

/**
 * Rebuilds dist/ when a bundle the run loads is stale. `log` gets one line saying why; Rollup's
 * own output goes to stderr. Throws an Error with a one-line hint when it cannot rebuild.
 */
export function ensureFreshBundles(paths: string[], log: (line: string) => void, root = PACKAGE_ROOT): void {
  const { stale, source } = staleBundles(paths, root);
  if (stale.length === 0) return;
  const names = stale.map((p) => relative(root, p)).join(", ");
  const why = `${names} ${stale.length > 1 ? "are" : "is"} older than ${relative(root, source as string)}`;
  const rollup = join(root, "node_modules", "rollup", "dist", "bin", "rollup");
  if (!existsSync(rollup) || !existsSync(join(root, "rollup.config.mjs"))) {
    throw new Error(`${why} and Rollup is not installed here to rebuild it: run npm run build:firmware in ${root}`);
  }
  log(`${why}: rebuilding dist/ (rollup -c)`);
  const result = spawnSync(process.execPath, [rollup, "-c"], { cwd: root, stdio: ["ignore", 2, 2] });
  if (result.status !== 0) throw new Error(`the firmware build (rollup -c) failed: fix it, or run npm run build:firmware to see why`);
  const still = staleBundles(paths, root).stale;
  if (still.length > 0) throw new Error(`the firmware build did not write ${still.map((p) => relative(root, p)).join(", ")}: check --app and --library`);
}
