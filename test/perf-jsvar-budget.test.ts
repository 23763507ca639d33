// The JsVar budget (test/helpers/jsvar-budget.ts): the library loaded and one idle session, in
// the simulator's estimate (always) and on the real interpreter (the lane, when ESPRUINO is set),
// with one app text (bench/device-memory.mjs) against an lwstcp-server --mode echo process.
import assert from "node:assert/strict";
// @ts-expect-error: plain ESM JavaScript
import { onInterpreter, onSimulator } from "../../bench/device-memory.mjs";
import { skipWithoutEspruino, stopEspruinoAfterEach } from "./helpers/espruino-process.js";
import { freePort } from "./helpers/host-sim.js";
import { JSVAR_BUDGET } from "./helpers/jsvar-budget.js";
import { DEMO_KEY_HEX, type Proc, startLwstcpServer, stopAfterEach } from "./helpers/processes.js";

type Readings = Record<string, number | string>;

async function measure(side: (port: number, inline: boolean) => Promise<Readings>, procs: Proc[]) {
  const port = await freePort();
  const server = await startLwstcpServer(port, ["--key", DEMO_KEY_HEX, "--mode", "echo", "--quiet"]);
  procs.push(server);
  const r = await side(port, false);
  assert.equal(r.done, undefined, "readings are numbers");
  for (const name of ["boot", "loaded", "session", "reconnect-20"]) assert.equal(typeof r[name], "number", `${name} measured: ${JSON.stringify(r)}`);
  return r as Record<string, number>;
}

describe("JsVar budget: the library loaded and one idle session", function () {
  this.timeout(90000);
  const { procs } = stopAfterEach();

  it(`in the simulator (ESP32): loaded ≤ ${JSVAR_BUDGET.libraryLoaded}, session ≤ ${JSVAR_BUDGET.sessionIdle} more, no growth over 20 reconnects`, async () => {
    const r = await measure(onSimulator, procs);
    assert.ok(r.loaded - r.boot <= JSVAR_BUDGET.libraryLoaded, `library loaded: ${r.loaded - r.boot} JsVars (${JSON.stringify(r)})`);
    assert.ok(r.session - r.loaded <= JSVAR_BUDGET.sessionIdle, `one idle session: ${r.session - r.loaded} JsVars (${JSON.stringify(r)})`);
    assert.ok(r["reconnect-20"] <= r.session + 5, `after 20 reconnects ${r["reconnect-20"]} vs ${r.session}`);
  });

  describe("on the real interpreter", () => {
    before(function () {
      skipWithoutEspruino(this);
    });
    stopEspruinoAfterEach();

    it(`one idle session ≤ ${JSVAR_BUDGET.sessionIdle} JsVars over the loaded library, no growth over 20 reconnects`, async () => {
      // The Linux build copies a Storage module's code into RAM (an ESP32 keeps it in flash), so
      // its "loaded" figure is not an ESP32's; a session's own cost is objects, alike on both.
      const r = await measure(onInterpreter, procs);
      assert.ok(r.session - r.loaded <= JSVAR_BUDGET.sessionIdle, `one idle session: ${r.session - r.loaded} JsVars (${JSON.stringify(r)})`);
      assert.ok(r["reconnect-20"] <= r.session + 5, `after 20 reconnects ${r["reconnect-20"]} vs ${r.session}`);
    });
  });
});
