// The product's processes as the end-to-end tests run them: the CLIs spawned with node, the
// server's JSON log read back as events, and the simulated boards' settings and health checks.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import type { Device } from "../../host-sim/device.js";
import type { FirmwareConfig } from "../../host-sim/runner.js";
import { until } from "./until.js";

export const SERVER_CLI = "build/server/cli/lwstcp-server.js";
export const CLIENT_CLI = "build/server/cli/lwstcp-client.js";
export const SIM_CLI = "build/host-sim/cli.js";
/** The C++ FizzBuzz example's public demo key, as boards/config.example.json carries it. */
export const DEMO_KEY_HEX = "78563412f0debc9a6824571301dfebac4433221188776655ccbbaa9900ffeedd";

export interface Proc {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  out: () => string;
  exit: Promise<number | null>;
  /** Its JSON log lines (`--log json`) so far. */
  events: () => Array<Record<string, any>>;
}

/** Spawns `node script args…` with no key in the environment, collecting its output. */
export function startNode(script: string, args: string[], cwd?: string): Proc {
  const child = spawn(process.execPath, [script, ...args], { cwd, env: { ...process.env, LWSTCP_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const events = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  return { child, out: () => out, exit: exited(child), events };
}

/**
 * The exit code once the process has exited and what it wrote has been read: "exit" can come
 * before the last stdout chunk, "close" only after the pipes end (or a second after "exit", for
 * a process whose own children still hold the pipes).
 */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("close", (code) => resolve(code));
    child.once("exit", (code) => setTimeout(() => resolve(code), 1000).unref());
  });
}

/**
 * lwstcp-server on 127.0.0.1:port with JSON log lines and the given flags; resolves once it
 * listens. The log has every event (--log-level debug) unless the flags choose a level.
 */
export async function startLwstcpServer(port: number, args: string[]): Promise<Proc> {
  const level = args.some((a) => a === "--quiet" || a.startsWith("--log-level")) ? [] : ["--log-level", "debug"];
  const proc = startNode(SERVER_CLI, ["--port", String(port), "--host", "127.0.0.1", "--log", "json", ...level, ...args]);
  await until(() => proc.events().some((e) => e.event === "started"), {
    timeoutMs: 10000,
    what: () => "server did not start: " + proc.out(),
    abort: () => proc.child.exitCode !== null,
  });
  return proc;
}

/** The settings a simulated board gets (boards/config.json on a real one). */
export function deviceConfig(port: number, extra: Partial<FirmwareConfig> = {}): FirmwareConfig {
  return { ssid: "lab", password: "lab-password", host: "127.0.0.1", port, key: DEMO_KEY_HEX, rounds: 32, role: "client", ...extra };
}

/** No uncaught error, no failure, and the library used the board's RNG register (not the E.hwRand fallback). */
export function assertDeviceHealthy(device: Device): void {
  const problems = device.uncaught.map((u) => u.printed);
  if (device.failure) problems.push(device.failure.kind + ": " + device.failure.message);
  assert.deepEqual(problems, [], `device ${device.name} console:\n` + device.consoleLines.slice(-60).join("\n"));
  assert.ok(!device.consoleLines.some((l) => /WARNING: no hardware RNG/.test(l)), "the library must use the board's RNG register");
}

/**
 * Lists the processes and simulated devices a test starts, and stops them all after each test
 * (call inside a describe block).
 */
export function stopAfterEach(): { procs: Proc[]; devices: Device[] } {
  const procs: Proc[] = [];
  const devices: Device[] = [];
  afterEach(() => {
    for (const d of devices.splice(0)) d.stop();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  });
  return { procs, devices };
}

export { until };
