// The device cipher as shipped: the two XTEA functions are cut out of dist/lwstcp.js (with the
// helper they call) and run inside the simulated Espruino against the C++ vectors; and the
// operation counter behind the benchmark's device rows (bench/device-ops.mjs) runs on the same
// bundle. Functional only: counts are compared, nothing is timed. Skipped before a build.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseKey } from "../firmware/core/keys.js";
import { createKeySchedule } from "../firmware/core/xtea.js";
import * as v8Form from "../firmware/core/xtea-blocks.js";
import * as deviceForm from "../firmware/core/xtea-blocks-device.js";
import { assertHealthy, bootDevice, stopAllDevices } from "./helpers/host-sim.js";
import { repoRoot, vectors } from "./helpers/vectors.js";

const bundlePath = join(repoRoot, "dist", "lwstcp.js");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const deviceOps = (): Promise<any> => import(pathToFileURL(join(repoRoot, "bench", "device-ops.mjs")).href);

describe("device XTEA (the bundled cipher)", function () {
  this.timeout(20000);
  before(function () {
    if (!existsSync(bundlePath)) this.skip();
  });
  afterEach(() => stopAllDevices());

  it("ciphers ranges longer than its 512-byte segment exactly as the V8 form does, at any offset", () => {
    const schedule = createKeySchedule(parseKey(vectors.handshakeKey));
    for (const length of [512, 520, 1024, 1528, 4096, 65528]) {
      for (const offset of [0, 3]) {
        const plain = new Uint8Array(offset + length + 5).map((_, i) => (i * 131 + length) & 255);
        const ours = plain.slice();
        const theirs = plain.slice();
        deviceForm.encryptBlocks(schedule, ours, offset, length);
        v8Form.encryptBlocks(schedule, theirs, offset, length);
        assert.deepEqual(ours, theirs, `encrypt ${length} bytes at ${offset}`);
        deviceForm.decryptBlocks(schedule, ours, offset, length);
        assert.deepEqual(ours, plain, `decrypt ${length} bytes at ${offset}`);
      }
    }
  });

  it("reproduces every C++ vector inside host-sim, encrypting and decrypting", async () => {
    const { bundleCipherScript, keyWords, schedule } = await deviceOps();
    const script = bundleCipherScript(readFileSync(bundlePath, "latin1"));
    const device = bootDevice({ name: "xtea" });
    device.run(script, "xtea-from-bundle.js");
    for (const [i, v] of vectors.xtea256.entries()) {
      const words = Array.from(schedule(keyWords(v.key), v.rounds) as Uint32Array).join(",");
      device.run(
        `(function(){var w=new Uint32Array([${words}]);var h="${v.plaintext}";var b=new Uint8Array(h.length/2);` +
          `for(var i=0;i<b.length;i++)b[i]=parseInt(h.substr(2*i,2),16);` +
          `function hex(){var s="";for(var i=0;i<b.length;i++)s+=(b[i]<16?"0":"")+b[i].toString(16);return s;}` +
          `xteaEncrypt(w,b,0,b.length);print("enc${i} "+hex());xteaDecrypt(w,b,0,b.length);print("dec${i} "+hex());})();`,
      );
      assert.ok(device.consoleLines.includes(`enc${i} ${v.ciphertext}`), `vector ${i} (${v.rounds} rounds): ${device.consoleLines.slice(-2).join(" | ")}`);
      assert.ok(device.consoleLines.includes(`dec${i} ${v.plaintext}`), `vector ${i} decrypts back`);
    }
    assertHealthy(device);
  });

  it("the operation counter checks every form against the vectors and counts the bundle below the straightforward form", async () => {
    const { measureDeviceOps } = await deviceOps();
    const { forms } = await measureDeviceOps();
    assert.equal(forms.length, 3);
    for (const f of forms) assert.equal(f.checked, vectors.xtea256.length, f.name);
    const [straight, , bundle] = forms;
    assert.ok(bundle.nodes < straight.nodes && bundle.tokens < straight.tokens && bundle.chars < straight.chars);
  });
});
