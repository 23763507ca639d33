// The package outside this repository, as a user meets it: `npm pack`, the tarball installed into a
// temporary directory (its dependencies from the registry), `npx lwstcp-firmware init my-device`, the
// tarball installed into that project, then the project's own `npm test` (build with
// lwstcp-firmware, then its startDevice test against an lwstcp server), a type check with only the
// device types, `lwstcp-sim` on the built app, and `lwstcp-flash --out` writing the upload text.
// Nothing here reaches back into the repository: every command runs from the temporary directory.
// The registry must be reachable (for the tarball's dependencies); with a warm npm cache it takes
// about 35 s. Part of `npm test`; `npm run test:package` runs it alone.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEY_HEX, startServer } from "./helpers/server.js";

function sh(command: string, args: string[], cwd: string, timeout = 120000): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" } });
  return { status: r.status, out: (r.stdout || "") + (r.stderr || "") };
}

describe("the packed tarball in a project of its own", function () {
  this.timeout(300000);
  const root = mkdtempSync(join(tmpdir(), "lwstcp-package-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("installs, writes a starter with lwstcp-firmware init, and the starter builds, type-checks, tests, simulates and makes its upload", async () => {
    const packed = sh("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], process.cwd());
    assert.equal(packed.status, 0, packed.out);
    const tarball = join(root, JSON.parse(packed.out.slice(packed.out.indexOf("["))).at(0).filename);
    assert.ok(existsSync(tarball), tarball);

    const scratch = join(root, "scratch");
    sh("mkdir", ["-p", scratch], root);
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    const installed = sh("npm", ["install", tarball, "--prefer-offline"], scratch);
    assert.equal(installed.status, 0, installed.out);

    const init = sh("npx", ["--no-install", "lwstcp-firmware", "init", "my-device"], scratch);
    assert.equal(init.status, 0, init.out);
    const project = join(scratch, "my-device");
    for (const file of ["package.json", "tsconfig.json", "src/app.ts", "config.example.json", "test/app.test.mjs", "README.md"])
      assert.ok(existsSync(join(project, file)), file);
    assert.equal(JSON.parse(readFileSync(join(project, "tsconfig.json"), "utf8")).compilerOptions.types[0], "lwstcp/device");

    const own = sh("npm", ["install", tarball, "--prefer-offline"], project);
    assert.equal(own.status, 0, own.out);
    const tested = sh("npm", ["test"], project);
    assert.equal(tested.status, 0, tested.out);
    assert.match(tested.out, /dist\/app\.js: \d+ bytes/);
    assert.match(tested.out, /# pass 1/);

    const types = sh("npx", ["--no-install", "tsc", "-p", "."], project);
    assert.equal(types.status, 0, types.out);
    writeFileSync(join(project, "src", "bad.ts"), "var seen = new Set<number>();\n");
    const refused = sh("npx", ["--no-install", "tsc", "-p", "."], project);
    assert.notEqual(refused.status, 0);
    assert.match(refused.out, /src\/bad\.ts\(1,16\): error TS\d+: Cannot find name 'Set'/);
    rmSync(join(project, "src", "bad.ts"));

    const server = await startServer();
    try {
      writeFileSync(
        join(project, "config.json"),
        JSON.stringify({ ssid: "lab", password: "pw", host: "127.0.0.1", port: server.port, key: KEY_HEX, every: 0.5 }),
      );
      // Not spawnSync: the server runs in this process and must answer meanwhile.
      const child = spawn("npx", ["--no-install", "lwstcp-sim", "--app", "dist/app.js", "--config", "config.json", "--duration", "3"], {
        cwd: project,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const sim = { stdout: "", stderr: "", status: null as number | null };
      child.stdout.on("data", (d) => (sim.stdout += d));
      child.stderr.on("data", (d) => (sim.stderr += d));
      sim.status = await new Promise((done) => child.on("close", done));
      assert.equal(sim.status, 0, sim.stdout + sim.stderr);
      assert.match(sim.stdout, /\[dev1\] connected/);
      assert.match(sim.stdout, /summary: .*handshakes 1/);
    } finally {
      await server.stop();
    }

    const upload = sh("npx", ["--no-install", "lwstcp-flash", "--app", "dist/app.js", "--config", "config.json", "--out", "upload.js"], project);
    assert.equal(upload.status, 0, upload.out);
    const text = readFileSync(join(project, "upload.js"), "latin1");
    assert.match(text, /require\("Storage"\)\.write\("lwstcp",/);
    assert.match(text, /require\("Storage"\)\.write\("lwstcp-config\.json",/);
    assert.ok(text.includes(readFileSync(join(project, "dist", "app.js"), "latin1").trim()), "the app is in the upload");
  });
});
