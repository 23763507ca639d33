// What Espruino 2v29 has on the ESP32 board, read from the one file the static checker reads too:
// scripts/espruino-globals.json (its "_about" says where each list comes from). The simulator
// deletes every other global V8 puts in a context and every absent member, and require()
// answers the native modules. In an installed package the file sits at the same place relative
// to build/host-sim/, so this works from node_modules as it does here.
import { readFileSync } from "node:fs";

/** Where the facts live; the checker's GLOBALS_FILE is the same path (a test compares them). */
export const GLOBALS_FILE = new URL("../../scripts/espruino-globals.json", import.meta.url).pathname;

interface EspruinoFacts {
  esp32Globals: string[];
  esp32Modules: string[];
  absent: string[];
  absentMembers: Record<string, string[]>;
  esp32E: string[];
}

const FACTS = JSON.parse(readFileSync(GLOBALS_FILE, "utf8")) as EspruinoFacts;

/** The global names of the ESP32 build (the pins D0..D39 are added where pins are made). */
export const ESP32_GLOBAL_NAMES: readonly string[] = FACTS.esp32Globals;

/** Modules `require()` answers natively on ESP32 (docs/ESPRUINO.md §4). */
export const ESP32_BUILTIN_MODULES: readonly string[] = FACTS.esp32Modules;

/** Members Espruino lacks, by receiver ("Array.prototype"; "TypedArray" stands for every typed array). */
export const ESP32_ABSENT_MEMBERS: Readonly<Record<string, readonly string[]>> = FACTS.absentMembers;

/** The members of E the ESP32 build has that an application may use. */
export const ESP32_E_MEMBERS: readonly string[] = FACTS.esp32E;
