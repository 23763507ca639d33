// Stress scenario device-hostile: 200+ hostile connections per profile against a simulated
// ESP32 running the library's server (session limit 4, default 1.5 s silent timeout), half
// silent and half sending a 64 KB message header before the key; then an honest desktop
// client. Reports JsVars idle → peak → after and whether the honest session was served.
import { join } from "node:path";

/** Four handshaking connections cost a few hundred JsVars; the old framer needed > 16,383. */
const PEAK_GROWTH_LIMIT = 2500;

export default async function deviceHostile({ root, n, key }) {
  const { bootHostileTarget, hostileFlood, honestEcho } = await import(join(root, "build/test/helpers/device-hostile.js"));
  const count = Math.max(200, n(200));
  const failures = [];
  const notes = [];
  for (const [profile, header] of [
    ["v1", [0x01, 0xff, 0xf8]],
    ["v2", [0x11, 0xff, 0xf8]],
  ]) {
    const options = { profile, keyHex: key };
    const { device, port } = await bootHostileTarget(options);
    try {
      const warm = await honestEcho(port, options, "warm-up");
      if (warm !== "warm-up") failures.push(`${profile}: warm-up ${warm}`);
      await new Promise((r) => setTimeout(r, 50));
      const idle = device.memory().usage;
      const peakBefore = device.peakJsVars;
      const flood = await hostileFlood(port, count, header);
      await new Promise((r) => setTimeout(r, 100));
      const after = device.memory().usage;
      const echo = await honestEcho(port, options);
      notes.push(
        `${profile} JsVars ${idle} → peak ${device.peakJsVars} → after ${after}, ${flood.closedByDevice}/${count} closed by the device in ${flood.ms} ms, honest after: ${echo === "still served" ? "served" : echo}`,
      );
      if (device.failure || device.uncaught.length)
        failures.push(`${profile}: device ${JSON.stringify({ failure: device.failure, uncaught: device.uncaught.length })}`);
      if (device.peakJsVars >= Math.max(peakBefore, idle + PEAK_GROWTH_LIMIT)) failures.push(`${profile}: peak ${device.peakJsVars} JsVars (idle ${idle})`);
      if (after - idle >= 20) failures.push(`${profile}: ${after} JsVars after, ${idle} idle`);
      if (flood.closedByDevice !== count) failures.push(`${profile}: the device closed ${flood.closedByDevice} of ${count}`);
      if (echo !== "still served") failures.push(`${profile}: honest client after the flood: ${echo}`);
    } finally {
      device.stop();
    }
  }
  return { inputs: count * 2, connections: count * 2 + 4, failures, note: notes.join("; ") };
}
