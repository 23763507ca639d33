// examples/sensor-node as a user would run it: the device app built with lwstcp-firmware, running on
// the simulator (lwstcp/sim), against the desktop program as a real process on 127.0.0.1. Readings
// arrive, a command typed on the desktop's stdin switches the LED pin, a ping is answered, and the
// node comes back by itself after the server is killed and restarted and after its Wi-Fi drops.

import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import { KEY_HEX } from "./helpers/server.js";

const APP = resolve("build", "examples", "sensor-node", "app.js");
const DESKTOP = resolve("build", "examples", "sensor-node", "desktop", "server.js");

/** The desktop program, with every stdout line kept and a way to wait for one. */
class Desktop {
  readonly lines: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(port: number) {
    this.child = spawn(process.execPath, [DESKTOP, "--host", "127.0.0.1", "--port", String(port), "--key", KEY_HEX], { stdio: "pipe" });
    let partial = "";
    this.child.stdout.on("data", (chunk) => {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop() as string;
      this.lines.push(...parts);
      for (const wake of [...this.waiters]) wake();
    });
    this.child.stderr.on("data", (chunk) => this.lines.push("stderr: " + chunk));
    this.exited = new Promise((done) => this.child.on("exit", (code) => done(code)));
  }

  /** The first line from index `from` on that matches; rejects after `ms`. */
  waitFor(pattern: RegExp, ms = 15000, from = 0): Promise<string> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const line = this.lines.slice(from).find((l) => pattern.test(l));
        if (line === undefined) return;
        clearTimeout(timer);
        this.waiters.splice(this.waiters.indexOf(check), 1);
        resolveLine(line);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(check), 1);
        reject(new Error(`no line matching ${pattern} within ${ms} ms; desktop printed:\n${this.lines.join("\n")}`));
      }, ms);
      this.waiters.push(check);
      check();
    });
  }

  type(line: string): void {
    this.child.stdin.write(line + "\n");
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

describe("examples/sensor-node: the device app in the simulator against the desktop program", function () {
  this.timeout(120000);
  let desktop: Desktop | undefined;
  let node: SimulatedDevice | undefined;

  before(() => {
    const built = spawnSync(process.execPath, ["scripts/lwstcp-firmware.mjs", "build", "examples/sensor-node/device/app.ts", "--out", APP], {
      encoding: "utf8",
      timeout: 60000,
    });
    assert.equal(built.status, 0, built.stdout + built.stderr);
  });
  after(async () => {
    node?.stop();
    await desktop?.kill();
  });

  it("sends readings, obeys the LED and ping commands typed on the desktop, and survives a server restart and a Wi-Fi drop", async () => {
    desktop = new Desktop(0);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await desktop.waitFor(/^listening on /))?.[1]);
    let temperature = 80;
    node = await startDevice({
      app: APP,
      config: { ssid: "lab", password: "lab-password", host: "127.0.0.1", port, key: KEY_HEX, every: 0.2, led: 2 },
      temperature: () => temperature,
    });

    // Readings arrive, with the fields the README promises.
    await desktop.waitFor(/^device 1 connected from 127\.0\.0\.1:\d+$/);
    const reading = JSON.parse((await desktop.waitFor(/^reading 1 /)).replace(/^reading 1 /, ""));
    assert.deepEqual(Object.keys(reading).sort(), ["t", "temp", "uptime"]);
    assert.equal(reading.temp, 80);
    assert.ok(typeof reading.t === "number" && typeof reading.uptime === "number" && reading.uptime >= 0, JSON.stringify(reading));
    temperature = 90;
    await desktop.waitFor(/^reading 1 .*"temp":90/);

    // A command typed on the desktop switches the LED pin; the node confirms it.
    assert.equal(node.pin("D2"), 0);
    let mark = desktop.lines.length;
    desktop.type('1 {"led":true}');
    await desktop.waitFor(/^device 1: \{"led":true\}$/, 15000, mark);
    assert.equal(node.pin("D2"), 1);
    mark = desktop.lines.length;
    desktop.type('1 {"led":false}');
    await desktop.waitFor(/^device 1: \{"led":false\}$/, 15000, mark);
    assert.deepEqual(
      node.pinWrites("D2").map((w) => w.value),
      [0, 1, 0],
      "the boot's off, then on and off as commanded",
    );
    desktop.type('1 {"ping":7}');
    await desktop.waitFor(/^device 1: \{"pong":7\}$/);
    desktop.type('9 {"led":true}');
    await desktop.waitFor(/^not sent: no device 9/);

    // The server dies and comes back on the same port: the node reconnects by itself.
    await desktop.kill("SIGKILL");
    desktop = new Desktop(port);
    await desktop.waitFor(/^listening on /);
    await desktop.waitFor(/^device 1 connected from /, 30000);
    await desktop.waitFor(/^reading 1 /);
    await node.waitForConsole(/sensor-node: session ended: /);

    // The Wi-Fi drops: the node joins again and its client finds the server again.
    mark = desktop.lines.length;
    node.device.wifi.dropLink();
    await node.waitForConsole(/sensor-node: wifi down \(BEACON_TIMEOUT\)/);
    // (The desktop sees the old session go only at its inactivity timeout: a lost link sends no FIN.)
    await desktop.waitFor(/^device 2 connected from /, 30000, mark);
    await desktop.waitFor(/^reading 2 /, 15000, mark);
    assert.equal(node.device.failure, undefined);
    assert.deepEqual(node.device.uncaught, []);
    assert.equal(node.device.library.counts.callbackErrors, 0);
  });
});
