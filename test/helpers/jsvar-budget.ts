// The device library's JsVar budget, in ESP32 JsVars (14-byte blocks, module code in flash as a
// Storage module keeps it there): the library loaded and idle, and one idle session on top of it.
// The simulator checks both (test/perf-jsvar-budget.test.ts); the real-interpreter lane checks
// the session part, the one whose cost the Linux build shares with an ESP32 (docs/DEVICE-MEMORY.md).
export const JSVAR_BUDGET = {
  /**
   * require("lwstcp") and setHandshakeKey, over the interpreter's start-up usage, with lwstcp-xtea
   * in Storage as a v1 board is flashed. Simulated 1,356 (the real Linux build: 1,523; most of
   * it is what each of the library's hundred-odd functions holds: code, parameter names, scope chain).
   */
  libraryLoaded: 1400,
  /** One client session after its handshake, idle, over the loaded library (simulated 687, measured 522). */
  sessionIdle: 750,
};
