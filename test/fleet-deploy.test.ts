// The deployment files in docs/ as far as they can be checked without systemd running them or
// a Docker engine: the systemd unit's ExecStart and the image's ENTRYPOINT + CMD, run against the
// built server with docs/server.example.json in place of /etc/lwstcp/server.json, start it; the
// Dockerfile's build stage copies paths that exist and that type-check on their own, and its
// image stage (just the files it keeps, the entry point a symlink on PATH) runs the server;
// systemd-analyze, where installed, verifies the unit.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { exited } from "./helpers/processes.js";
import { KEY_HEX, within } from "./helpers/server.js";
import { until } from "./helpers/until.js";

const UNIT = readFileSync("docs/lwstcp-server.service", "utf8");
const DOCKERFILE = readFileSync("docs/Dockerfile", "utf8");
const CONFIG_PATH = "/etc/lwstcp/server.json";

/** The unit's `Key=value` settings (the last one of a key wins, as in systemd). */
function unitSetting(key: string): string | undefined {
  const lines = UNIT.split("\n").filter((l) => l.startsWith(key + "="));
  return lines.length ? lines[lines.length - 1].slice(key.length + 1) : undefined;
}

/** The Dockerfile's instructions, by stage (a FROM starts one). */
function dockerStages(): Array<Array<{ op: string; args: string }>> {
  const stages: Array<Array<{ op: string; args: string }>> = [];
  for (const line of DOCKERFILE.split("\n")) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "FROM") stages.push([]);
    stages[stages.length - 1].push({ op: m[1], args: m[2] });
  }
  return stages;
}

/**
 * Runs `command` (argv from the unit or the image) with /etc/lwstcp/server.json replaced by
 * docs/server.example.json and a free port, a local host and a key file typed after it, as an
 * operator overriding the file would; resolves with the "started" event and stops it.
 */
async function runsAndStarts(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  assert.ok(args.includes("--config") && args.includes(CONFIG_PATH), args.join(" "));
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-deploy-"));
  try {
    const keyFile = join(dir, "server.key");
    writeFileSync(keyFile, KEY_HEX + "\n", { mode: 0o600 });
    const argv = [...args.map((a) => (a === CONFIG_PATH ? "docs/server.example.json" : a)), "--port", "0", "--host", "127.0.0.1", "--key-file", keyFile];
    const child = spawn(program, argv, { env: { ...env, LWSTCP_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exit = exited(child);
    const started = () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .find((e) => e.event === "started");
    try {
      await until(() => started() !== undefined, { timeoutMs: 10000, what: () => "started: " + out, abort: () => child.exitCode !== null });
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await within(exit, 10000, "the server to stop"), 0, out);
    return started();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BUILT_SERVER = resolve("build/server/cli/lwstcp-server.js");
const example = JSON.parse(readFileSync("docs/server.example.json", "utf8"));

describe("the systemd unit and the Dockerfile in docs/", function () {
  this.timeout(60000);

  it("the unit runs lwstcp-server --config as its own user, reloads with SIGHUP, restarts on failure, and is locked down", async () => {
    const execStart = (unitSetting("ExecStart") as string).split(/\s+/);
    assert.match(execStart[0], /^\/.*\/lwstcp-server$/);
    assert.equal(unitSetting("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert.equal(unitSetting("Restart"), "on-failure");
    assert.ok(unitSetting("User") && unitSetting("User") !== "root");
    for (const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["CapabilityBoundingSet", ""],
    ])
      assert.equal(unitSetting(key), value, key);
    const started = await runsAndStarts(process.execPath, [BUILT_SERVER, ...execStart.slice(1)]);
    assert.equal(started.mode, example.mode);
    assert.equal(started.profile, example.profile);
  });

  it("systemd-analyze verify accepts the unit (its ExecStart pointed at the built server)", function () {
    const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
    if (probe.error) {
      console.log("      systemd-analyze not installed: the unit is not verified");
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-unit-"));
    try {
      const unit = join(dir, "lwstcp-server.service");
      writeFileSync(unit, UNIT.replace(/^ExecStart=\S+/m, "ExecStart=" + BUILT_SERVER));
      const r = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8", timeout: 30000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), "", "no warnings");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Dockerfile builds on node:20-slim from paths that exist and type-check on their own", function () {
    this.timeout(120000);
    const [build, image] = dockerStages();
    assert.match(build[0].args, /^node:20-slim\b/);
    assert.match(image[0].args, /^node:20-slim$/);
    assert.ok(build.some((i) => i.op === "RUN" && /npm ci\b.*npm run build/.test(i.args)));
    const sources = build.filter((i) => i.op === "COPY").flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of sources) assert.ok(existsSync(source), source + " exists");
    // What `npm run build` marks executable (every bin) is compiled from a directory copied in.
    const bins = Object.values(JSON.parse(readFileSync("package.json", "utf8")).bin as Record<string, string>);
    for (const bin of bins.filter((b) => b.startsWith("build/"))) assert.ok(sources.includes(bin.split("/")[1]), bin + "'s sources are copied");
    const dir = mkdtempSync(join(tmpdir(), "lwstcp-docker-build-"));
    try {
      for (const source of sources) cpSync(source, join(dir, source), { recursive: true });
      symlinkSync(resolve("node_modules"), join(dir, "node_modules"));
      const tsc = spawnSync(process.execPath, [resolve("node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--noEmit"], {
        cwd: dir,
        encoding: "utf8",
        timeout: 110000,
      });
      assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the image's files alone run the server: ENTRYPOINT lwstcp-server on PATH with its CMD, as a non-root user", async () => {
    const [, image] = dockerStages();
    assert.ok(image.some((i) => i.op === "USER" && i.args !== "root" && i.args !== "0"));
    assert.ok(image.some((i) => i.op === "EXPOSE" && i.args === String(example.port)));
    const workdir = image.find((i) => i.op === "WORKDIR")?.args as string;
    const entrypoint = JSON.parse(image.find((i) => i.op === "ENTRYPOINT")?.args as string) as string[];
    const cmd = JSON.parse(image.find((i) => i.op === "CMD")?.args as string) as string[];
    assert.deepEqual(entrypoint, ["lwstcp-server"]);
    // The image as a directory: what its COPY --from=build lines keep (/src/X from this checkout).
    const root = mkdtempSync(join(tmpdir(), "lwstcp-docker-image-"));
    try {
      const inImage = (path: string) => join(root, path.startsWith("/") ? path : join(workdir, path));
      for (const copy of image.filter((i) => i.op === "COPY")) {
        const [from, source, target] = copy.args.split(/\s+/);
        assert.equal(from, "--from=build");
        const local = source.replace(/^\/src\//, "");
        assert.ok(existsSync(local), local + " is built");
        // As in Docker, a target ending in "/" is the directory the source goes into.
        const dest = target.endsWith("/") ? join(inImage(target), basename(local)) : inImage(target);
        mkdirSync(dirname(dest), { recursive: true });
        // node_modules is linked, not copied: it is large, and the test only needs it resolvable.
        if (local === "node_modules") symlinkSync(resolve(local), dest);
        else cpSync(local, dest, { recursive: true });
      }
      const link = /ln -s (\S+) (\S+)/.exec(image.find((i) => i.op === "RUN")?.args as string);
      assert.ok(link, "the entry point is linked onto PATH");
      mkdirSync(dirname(inImage(link[2])), { recursive: true });
      symlinkSync(inImage(link[1]), inImage(link[2]));
      // PATH: the image's bin directory, and node (the shebang's `env node`).
      const env = { ...process.env, PATH: dirname(inImage(link[2])) + ":" + dirname(process.execPath) + ":/usr/bin:/bin" };
      const started = await runsAndStarts(entrypoint[0], cmd, env);
      assert.equal(started.mode, example.mode);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
