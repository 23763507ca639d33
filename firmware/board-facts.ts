// Per-board facts the library needs at run time, keyed by Espruino's process.env.BOARD.
// The single source is the `lwstcp` section of each boards/*.json; the Rollup build replaces
// __LWSTCP_BOARD_FACTS__ with that table (see rollup.config.mjs), so the device needs no file
// lookup. Under tsc (Node-side tests) the name is absent and the table is empty: tests hand
// facts to the functions that take them.

export interface BoardFacts {
  /** Address of the chip's hardware RNG register, read with peek32. Absent: no known register. */
  rngRegister?: number;
  /** The JsVar budget the board's Espruino build has at most. */
  jsVars: number;
}

declare const __LWSTCP_BOARD_FACTS__: { [board: string]: BoardFacts } | undefined;

export const BOARD_FACTS: { [board: string]: BoardFacts } = typeof __LWSTCP_BOARD_FACTS__ === "undefined" ? {} : __LWSTCP_BOARD_FACTS__;

/** The facts of the board this code runs on, from process.env.BOARD. */
export function currentBoard(): { name: string; facts: BoardFacts | undefined } {
  const name = process.env.BOARD || "";
  return { name: name, facts: BOARD_FACTS[name] };
}
