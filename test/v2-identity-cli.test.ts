// Device identity through the product's processes: lwstcp-server --profile v2 --keys FILE as a
// spawned process, desktop clients and the simulated device bundle (lwstcp-sim --device-id)
// pairing with their own keys; the server's log naming unknown-device and proof-failed; SIGHUP
// re-reading the file (a removed device ends "revoked", the others keep running, a bad file is
// refused and the old keys stay); the permission warning; a bad file at start.

import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LightweightSecureClient } from "../server/index.js";
import { type Proc, SIM_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";
import { seededBytes } from "./helpers/seed.js";
import { OTHER_KEY_HEX } from "./helpers/server.js";

const KITCHEN = seededBytes("identity-cli kitchen-1", 32).toString("hex");
const GARAGE = seededBytes("identity-cli garage", 32).toString("hex");

describe("lwstcp-server --keys (real processes on 127.0.0.1)", function () {
  this.timeout(60000);
  const { procs } = stopAfterEach();
  const clients: LightweightSecureClient[] = [];
  let dir = "";

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lwstcp-keys-"));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  function keysFile(table: Record<string, string>, mode = 0o600, name = "keys.json"): string {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(table));
    chmodSync(file, mode);
    return file;
  }

  async function server(file: string, extra: string[] = []): Promise<{ proc: Proc; port: number }> {
    const proc = await startLwstcpServer(0, ["--profile", "v2", "--keys", file, "--mode", "echo", ...extra]);
    procs.push(proc);
    return { proc, port: proc.events().find((e) => e.event === "started")?.port as number };
  }

  function client(port: number, deviceId: string | undefined, key: string): LightweightSecureClient {
    const c = new LightweightSecureClient("127.0.0.1", port, { profile: "v2", key, deviceId });
    clients.push(c);
    return c;
  }

  async function echo(c: LightweightSecureClient, text: string): Promise<string> {
    const reply = new Promise<string>((resolve) => c.once("message", resolve));
    c.sendMessage(text);
    return reply;
  }

  it("devices pair with their own keys; unknown id and wrong key are refused alike, and the log tells them apart", async () => {
    const { proc, port } = await server(keysFile({ "kitchen-1": KITCHEN, garage: GARAGE }));
    assert.doesNotMatch(proc.out(), /other users can read it/, "a mode-600 file earns no warning");
    const kitchen = client(port, "kitchen-1", KITCHEN);
    assert.equal((await kitchen.connectToServer()).success, true);
    assert.equal(await echo(kitchen, "hello"), "hello");
    const unknown = await client(port, "pantry", KITCHEN).connectToServer();
    const wrong = await client(port, "garage", OTHER_KEY_HEX).connectToServer();
    const noId = await client(port, undefined, KITCHEN).connectToServer();
    // What the clients see is the same: the server closed without a word.
    assert.deepEqual([unknown.reason, wrong.reason, noId.reason], ["peer-closed", "peer-closed", "peer-closed"]);
    await until(() => proc.events().filter((e) => e.event === "handshake-failed").length === 3, { what: () => "three failures: " + proc.out() });
    assert.deepEqual(
      proc
        .events()
        .filter((e) => e.event === "handshake-failed")
        .map((e) => [e.device, e.reason]),
      [
        ["pantry", "unknown-device"],
        ["garage", "proof-failed"],
        [undefined, "unknown-device"],
      ],
    );
    assert.ok(proc.events().some((e) => e.event === "handshake-success" && e.device === "kitchen-1"));
  });

  it("SIGHUP re-reads the file: a removed device ends 'revoked', the others keep running; a bad file is refused and the old keys stay", async () => {
    const file = keysFile({ "kitchen-1": KITCHEN, garage: GARAGE });
    const { proc, port } = await server(file);
    const kitchen = client(port, "kitchen-1", KITCHEN);
    const garage = client(port, "garage", GARAGE);
    for (const c of [kitchen, garage]) assert.equal((await c.connectToServer()).success, true);
    const kitchenEnded = new Promise<string>((resolve) => kitchen.once("disconnected", resolve));

    keysFile({ garage: GARAGE });
    proc.child.kill("SIGHUP");
    assert.equal(await kitchenEnded, "disconnect", "the revoked device is sent Disconnect");
    await until(() => proc.events().some((e) => e.event === "keys-reloaded"), { what: () => "keys-reloaded: " + proc.out() });
    const reloaded = proc.events().find((e) => e.event === "keys-reloaded");
    assert.equal(reloaded?.devices, 1);
    assert.equal(reloaded?.revoked, 1);
    await until(() => proc.events().some((e) => e.event === "session-ended" && e.device === "kitchen-1"), { what: () => "kitchen-1's end: " + proc.out() });
    assert.equal(proc.events().find((e) => e.event === "session-ended" && e.device === "kitchen-1")?.reason, "revoked");
    assert.equal(await echo(garage, "still here"), "still here");
    assert.equal((await client(port, "kitchen-1", KITCHEN).connectToServer()).success, false, "kitchen-1 is gone from the table");

    writeFileSync(file, '{"garage": "not a key"');
    const errorsBefore = proc.events().filter((e) => e.event === "error").length;
    proc.child.kill("SIGHUP");
    await until(() => proc.events().filter((e) => e.event === "error").length > errorsBefore, { what: () => "an error line: " + proc.out() });
    const errors = proc.events().filter((e) => e.event === "error");
    assert.equal(errors.length, errorsBefore + 1, "one line");
    assert.match(String(errors[errors.length - 1].reason), /keys\.json is not valid JSON.*the keys in use stay/);
    assert.equal(proc.child.exitCode, null, "the server keeps running");
    assert.equal(await echo(garage, "after the bad file"), "after the bad file");
    assert.equal((await client(port, "garage", GARAGE).connectToServer()).success, true, "the old keys still serve");
  });

  it("--workers 2: the primary passes SIGHUP on, and each worker reloads the file and logs it", async () => {
    const file = keysFile({ garage: GARAGE });
    const { proc, port } = await server(file, ["--workers", "2"]);
    const garage = client(port, "garage", GARAGE);
    assert.equal((await garage.connectToServer()).success, true);
    keysFile({ garage: GARAGE, "kitchen-1": KITCHEN });
    proc.child.kill("SIGHUP");
    await until(() => proc.events().filter((e) => e.event === "keys-reloaded").length === 2, { what: () => "two keys-reloaded lines: " + proc.out() });
    const reloaded = proc.events().filter((e) => e.event === "keys-reloaded");
    assert.deepEqual(
      reloaded.map((e) => e.devices),
      [2, 2],
    );
    assert.equal(new Set(reloaded.map((e) => e.worker)).size, 2, "one line from each worker");
    assert.equal(await echo(garage, "kept"), "kept");
    assert.equal((await client(port, "kitchen-1", KITCHEN).connectToServer()).success, true, "the new device is known to the workers");
  });

  it("without --keys, SIGHUP logs that there is nothing to reload and the server keeps its sessions", async () => {
    const proc = await startLwstcpServer(0, ["--profile", "v2", "--key", KITCHEN, "--mode", "echo"]);
    procs.push(proc);
    const port = proc.events().find((e) => e.event === "started")?.port as number;
    const c = client(port, "hall", KITCHEN);
    assert.equal((await c.connectToServer()).success, true);
    proc.child.kill("SIGHUP");
    await until(() => proc.events().some((e) => e.event === "reload"), { what: () => "the reload line: " + proc.out() });
    assert.match(String(proc.events().find((e) => e.event === "reload")?.reason), /nothing to reload without --keys/);
    assert.equal(await echo(c, "still open"), "still open");
    assert.ok(
      proc.events().some((e) => e.event === "handshake-success" && e.device === "hall"),
      "an id against a single key names the session",
    );
  });

  it("a keys file others can read: one warning line on stderr, and the server starts", async () => {
    const { proc } = await server(keysFile({ garage: GARAGE }, 0o644));
    const warnings = proc
      .out()
      .split("\n")
      .filter((l) => /holds device keys and other users can read it/.test(l));
    assert.equal(warnings.length, 1, proc.out());
    assert.match(warnings[0], /mode 644.*chmod 600/);
  });

  it("a bad keys file, or --keys without --profile v2: one line, exit 2", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--profile", "v2", "--keys", join(dir, "missing.json")], /--keys: cannot read .*missing\.json: ENOENT/],
      [
        ["--profile", "v2", "--keys", keysFile({ "kitchen 1": KITCHEN }, 0o600, "bad-id.json")],
        /--keys .*bad-id\.json: keys: "kitchen 1": a device id may hold only printable ASCII/,
      ],
      [["--profile", "v2", "--keys", keysFile({ garage: "abc" }, 0o600, "bad-key.json")], /--keys .*bad-key\.json: keys: "garage": /],
      [["--keys", keysFile({ garage: GARAGE })], /--keys needs --profile v2/],
    ];
    for (const [args, expected] of cases) {
      const proc = startNode("build/server/cli/lwstcp-server.js", ["--port", "0", ...args]);
      procs.push(proc);
      assert.equal(await proc.exit, 2, proc.out());
      const lines = proc.out().trim().split("\n");
      assert.equal(lines.length, 1, proc.out());
      assert.match(lines[0], expected);
    }
  });

  it("the simulated device bundle with --device-id pairs with its own key and plays FizzBuzz", async () => {
    const file = keysFile({ "sensor-1": KITCHEN });
    const proc = await startLwstcpServer(0, ["--profile", "v2", "--keys", file, "--mode", "fizzbuzz"]);
    procs.push(proc);
    const port = proc.events().find((e) => e.event === "started")?.port as number;
    const run = startNode(SIM_CLI, ["--port", String(port), "--profile", "v2", "--device-id", "sensor", "--key", KITCHEN, "--duration", "2"]);
    procs.push(run);
    assert.equal(await run.exit, 1, "the id is sensor, not sensor-1: refused\n" + run.out());
    await until(() => proc.events().some((e) => e.event === "handshake-failed" && e.device === "sensor"), { what: () => proc.out() });
    assert.equal(proc.events().find((e) => e.event === "handshake-failed")?.reason, "unknown-device");

    const good = startNode(SIM_CLI, ["--port", String(port), "--profile", "v2", "--device-id", "sensor-1", "--key", KITCHEN, "--count", "3"]);
    procs.push(good);
    assert.equal(await good.exit, 0, good.out());
    assert.match(good.out(), /^\[dev1\] lwstcp: FizzBuzz done: 3 replies, 0 wrong$/m);
    assert.ok(
      proc.events().some((e) => e.event === "handshake-success" && e.device === "sensor-1"),
      proc.out(),
    );
  });
});
