// Command-line parsing shared by lwstcp-server and lwstcp-client. The flags are part of
// the contract (issue 3), so they are parsed strictly: an unknown flag, a missing or
// malformed value, or a bad key is a UsageError, which the CLIs print as one line and
// exit with code 2. No dependency: the grammar is `--name value` and `--name=value`
// (values may start with "-", as in `--timeout -1`).

import { readFileSync } from "node:fs";
import { DEMO_KEY_WORDS, keyToHex, parseKey } from "../../firmware/core/index.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type Flags = Map<string, string>;

/** Parses argv against the known flag names; `switches` take no value. */
export function parseFlags(argv: string[], valueFlags: string[], switches: string[] = []): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError("unexpected argument '" + arg + "' (flags look like --name value)");
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (flags.has(name)) throw new UsageError("--" + name + " given more than once");
    if (switches.includes(name)) {
      if (eq > 0) throw new UsageError("--" + name + " takes no value");
      flags.set(name, "");
    } else if (valueFlags.includes(name)) {
      let value: string;
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      flags.set(name, value);
    } else {
      throw new UsageError("unknown flag --" + name);
    }
  }
  return flags;
}

/** A whole number in [min, max]. */
export function intFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError("--" + name + " must be a whole number, got '" + text + "'");
  const value = Number(text.trim());
  if (value < min || value > max) throw new UsageError("--" + name + " must be from " + min + " to " + max + ", got " + value);
  return value;
}

export function requireFlag(flags: Flags, name: string, what: string): string {
  const value = flags.get(name);
  if (value === undefined || value === "") throw new UsageError("--" + name + " " + what + " is required");
  return value;
}

export function choiceFlag<T extends string>(flags: Flags, name: string, choices: readonly T[], fallback?: T): T {
  const value = flags.get(name);
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError("--" + name + " is required (" + choices.join(" | ") + ")");
    return fallback;
  }
  if (!(choices as readonly string[]).includes(value)) throw new UsageError("--" + name + " must be one of " + choices.join(", ") + ", got '" + value + "'");
  return value as T;
}

export const KEY_FLAGS = ["key", "key-words", "key-file"];

function wordsFromText(text: string, source: string): number[] {
  const parts = text.split(/[\s,]+/).filter((part) => part !== "");
  if (parts.length !== 8) throw new UsageError(source + " must hold 8 words, got " + parts.length);
  return parts.map((part, i) => {
    if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(part)) throw new UsageError(source + ": word " + i + " ('" + part + "') is not a u32 in hex (0x…) or decimal");
    const value = Number(part);
    if (value > 0xffffffff) throw new UsageError(source + ": word " + i + " (" + part + ") is larger than 0xFFFFFFFF");
    return value;
  });
}

function keyFromText(text: string, source: string): Uint32Array {
  const trimmed = text.trim();
  try {
    if (/^[0-9a-f]+$/i.test(trimmed)) return parseKey(trimmed);
    return parseKey(wordsFromText(trimmed, source));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(source + ": " + (err as Error).message);
  }
}

/**
 * The handshake key from --key HEX64, --key-words W0,…,W7, --key-file F (64 hex digits,
 * 8 words, or 32 raw bytes) or the LWSTCP_KEY environment variable, in that order of
 * precedence; exactly one flag at most.
 */
export function keyFromFlags(flags: Flags, env: NodeJS.ProcessEnv): Uint32Array {
  const given = KEY_FLAGS.filter((name) => flags.has(name));
  if (given.length > 1) throw new UsageError("give only one of --key, --key-words, --key-file (got " + given.map((n) => "--" + n).join(", ") + ")");
  if (flags.has("key")) {
    const hex = (flags.get("key") as string).trim();
    if (!/^[0-9a-f]{64}$/i.test(hex))
      throw new UsageError("--key must be 64 hex digits (32 bytes, each word little-endian), got " + hex.length + " characters");
    return keyFromText(hex, "--key");
  }
  if (flags.has("key-words")) return keyFromText(flags.get("key-words") as string, "--key-words");
  if (flags.has("key-file")) {
    const file = flags.get("key-file") as string;
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch (err) {
      throw new UsageError("--key-file: cannot read " + file + ": " + (err as NodeJS.ErrnoException).code);
    }
    const text = raw.toString("latin1");
    if (raw.length === 32 && !/^[\x20-\x7e\s]*$/.test(text)) return parseKey(new Uint8Array(raw));
    return keyFromText(text, "--key-file " + file);
  }
  if (env.LWSTCP_KEY !== undefined && env.LWSTCP_KEY !== "") return keyFromText(env.LWSTCP_KEY, "LWSTCP_KEY");
  throw new UsageError("no handshake key: pass --key HEX64, --key-words W0,...,W7 or --key-file F, or set LWSTCP_KEY");
}

export function isDemoKey(key: Uint32Array): boolean {
  return keyToHex(key) === keyToHex(Uint32Array.from(DEMO_KEY_WORDS));
}

export const DEMO_KEY_WARNING = [
  "!!! WARNING: this uses the PUBLIC demo key of the LightweightSecureTCP FizzBuzz example",
  "!!! (0x12345678,0x9ABCDEF0,...). Anyone can read and forge this traffic. It is for trying",
  "!!! the demo only: give real devices a secret key (--key, --key-words, --key-file or LWSTCP_KEY).",
].join("\n");

/** Runs a CLI main: UsageError → one line on stderr and exit 2; anything else → exit 1. */
export function runCli(program: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      if (err instanceof UsageError) {
        process.stderr.write(program + ": " + err.message + " (see --help)\n");
        process.exit(2);
      }
      process.stderr.write(program + ": " + ((err as Error).stack || String(err)) + "\n");
      process.exit(1);
    },
  );
}
