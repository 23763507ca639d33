// The Storage module "lwstcp-v2": the authenticated profile's engine (docs/PROTOCOL-v2.md) on
// Espruino's native AES and SHA-256. It is a separate module so that dist/lwstcp.js stays under
// its size gate and a v1-only board never parses it: `require("lwstcp").setProfile("v2")` (or
// an instance's setProfile("v2")) loads it, and lwstcp.ts's transport then builds its
// connections with createConnectionV2 instead of a v1 Connection.
//
// The two bundles meet only through the options, the ConnectionSink and the connection's
// driver-facing surface; the build mangles those property names identically in both (a shared
// terser name cache, rollup.config.mjs), and test/v2-e2e-device.test.ts runs them together.

import type { ConnectionSink, ProtocolConnection } from "./core/lifecycle.js";
import { ConnectionV2 } from "./core/v2/connection.js";
import type { V2Primitives } from "./core/v2/primitives.js";
import { createEspruinoPrimitives } from "./crypto-v2.js";
import type { DeviceOptions } from "./transport.js";

let primitives: V2Primitives | undefined;

/** A v2 connection with lwstcp.ts's options (its key words as the pre-shared key) and sink. */
export function createConnectionV2(role: number, options: DeviceOptions, sink: ConnectionSink): ProtocolConnection {
  if (!primitives) primitives = createEspruinoPrimitives();
  return new ConnectionV2(
    role,
    {
      preSharedKey: options.preSharedKey as Uint32Array,
      primitives: primitives,
      deviceId: options.deviceId,
      random: options.random,
      clock: options.clock,
      keepAliveIntervalMs: options.keepAliveIntervalMs,
      inactivityTimeoutMs: options.inactivityTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
    },
    sink,
  );
}

/** The device id rule, for the library's setDeviceId (the id is v2's alone). */
export { deviceIdProblem } from "./core/v2/constants.js";
