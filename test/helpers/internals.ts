// The one documented way a test reaches inside a connection: the members the core keeps for
// itself (its framer, its reply buffer, its control packets), typed by the lifecycle both
// profiles implement (firmware/core/lifecycle.ts). Tests never cast a connection to a shape
// of their own; when the core renames an internal, this file is the one place that changes.
import type { Lifecycle } from "../../firmware/core/lifecycle.js";

export interface ConnectionInternals {
  /** The receive side: `packet` is the buffer the framer holds for the peer. */
  readonly framer: { readonly packet: Uint8Array };
  /** The buffer replies and messages are built in. */
  readonly out: Uint8Array;
  /** Sends the profile's Keep-Alive now (or its Disconnect when `closing`), as tick() and disconnect() do. */
  control(closing: boolean): void;
}

/** A connection of either profile, seen through its internals. */
export function internals(connection: { readonly state: number }): ConnectionInternals {
  return connection as unknown as Lifecycle;
}
