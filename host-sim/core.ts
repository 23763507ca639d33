// What every part of a simulated device (net, Wifi, require, memory…) may reach of the device itself.
import type vm from "node:vm";
import type { ContextIntrinsics } from "./globals.js";
import type { Board, EspruinoRand } from "./hwrand.js";
import type { EventLoop } from "./loop.js";

/** Why a device stopped on its own, as a board would. */
export type FailureKind = "out-of-memory" | "interpreter-crash";

export interface DeviceFailure {
  kind: FailureKind;
  message: string;
}

export interface DeviceCore {
  readonly name: string;
  readonly board: Board;
  readonly context: vm.Context;
  readonly intrinsics: ContextIntrinsics;
  readonly loop: EventLoop;
  readonly rand: EspruinoRand;
  /** One line of the device's console. */
  print(line: string): void;
  /** Stops the device the way the board would stop, and records why. */
  fail(kind: FailureKind, message: string): void;
  /** Whether the network link is up (false after a scripted Wi-Fi drop or before Wifi.connect). */
  networkUp(): boolean;
  /** Resources (sockets, servers) that `stop()` and a link drop must close. */
  readonly resources: Set<DeviceResource>;
}

export interface DeviceResource {
  /** The context-visible object (a Socket or Server) whose listeners hold JsVars. */
  readonly jsObject: object;
  /** Extra JsVars held outside visible properties (e.g. a socket's send buffer). */
  hiddenJsVars(): number;
  /** Closes without emitting events (device stopped). */
  dispose(): void;
  /** The network link went down: emit what the device would, then close. */
  linkLost?(): void;
}
