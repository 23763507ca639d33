// The command-line layer every lwstcp tool shares (lwstcp-server, lwstcp-client, lwstcp-bench,
// the simulator, npm run bench/stress/flash). Flags are part of the contract, so they are
// parsed strictly: an unknown flag, a missing or malformed value, or a bad key is a
// UsageError, which runTool prints as one line and exits with code 2. No dependency: the
// grammar is `--name value` and `--name=value` (values may start with one "-", as in
// `--timeout -1`; a value starting with "--" must be given as `--name=--value`).
//
// A tool describes itself once (ToolSpec): that one table drives parsing, --help and the
// messages, so a flag cannot be accepted without being documented or the other way round.
// A tool that sets `config` also takes `--config FILE`: a JSON object whose keys are the same
// long flag names, so every flag in the table (whoever added it) can live in the file, and the
// values pass through the same checks as typed ones.

import cluster from "node:cluster";
import { readFileSync, statSync } from "node:fs";
import { DEMO_KEY_WORDS, keyToHex, parseKey } from "../../firmware/core/index.js";
import { deviceIdProblem } from "../../firmware/core/v2/constants.js";

export class UsageError extends Error {
  /** The flag whose value is wrong, so a message can say where that value came from. */
  readonly flag: string | undefined;
  constructor(message: string, flag?: string) {
    super(message);
    this.name = "UsageError";
    this.flag = flag;
  }
}

export type Flags = Map<string, string>;

export interface FlagSpec {
  /** "port" → --port */
  name: string;
  /** Placeholder shown in help ("PORT", "HEX64"); absent → a switch (no value). */
  value?: string;
  /** One line. */
  help: string;
  /** Shown in help as "(default: …)". */
  default?: string | number;
  /**
   * Flags with the same group are alternatives (the key sources; --log-level and --quiet): one
   * given on the command line replaces the config file's whole group, so a typed flag overrides.
   */
  group?: string;
  /** The value is key material: a config file holding it should be readable by its owner only. */
  secret?: boolean;
}

export interface ToolSpec {
  /** The name in messages: "<program>: <problem> (see --help)". */
  program: string;
  /** One line: what the tool does. */
  summary: string;
  /** Synopsis after the program name. */
  usage: string;
  /** Every flag the tool takes (spread KEY_FLAG_SPECS where a key is needed). */
  flags: FlagSpec[];
  /** At least one full command line. */
  examples: string[];
  /** Takes --config FILE: the flags as a JSON object; flags on the command line override it. */
  config?: boolean;
}

/** Parses argv against the known flag names; `switches` take no value. */
export function parseFlags(argv: string[], valueFlags: string[], switches: string[] = []): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--") || arg === "--") throw new UsageError("unexpected argument '" + arg + "' (flags look like --name value)");
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
        // `--port --key X` forgot the port: "--key" is the next flag, not the value.
        if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) throw new UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      flags.set(name, value);
    } else {
      throw new UsageError("unknown flag --" + name + suggestion(name, [...valueFlags, ...switches], (n) => "--" + n));
    }
  }
  return flags;
}

/** " (did you mean --port?)" when a known name is one or two edits away, else "". */
function suggestion(name: string, known: string[], spell: (name: string) => string): string {
  let best = "";
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? " (did you mean " + spell(best) + "?)" : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

const CONFIG_FLAG: FlagSpec = {
  name: "config",
  value: "FILE",
  help: 'read flags from a JSON file, long flag names as keys: {"port": 12345, "quiet": true}; flags given here override it',
};

/** The flags a tool takes: its table, and --config when it opts in. */
function toolFlags(spec: ToolSpec): FlagSpec[] {
  if (!spec.config) return spec.flags;
  if (spec.flags.some((f) => f.name === CONFIG_FLAG.name)) throw new Error(spec.program + ": a flag named --config clashes with the config file flag");
  return [...spec.flags, CONFIG_FLAG];
}

/** For parsed flags that took values from a config file: the file, and the names it set. */
const fromConfig = new WeakMap<Flags, { file: string; names: Set<string> }>();

/** The config file a flag's value came from, or undefined when it was typed (or is absent). */
export function configFileOf(flags: Flags, name: string): string | undefined {
  const origin = fromConfig.get(flags);
  return origin && origin.names.has(name) ? origin.file : undefined;
}

/**
 * Strict parsing against a tool's spec: unknown flag, missing value, repeated flag, stray
 * argument → UsageError. With --config FILE (tools with `config`), the file's flags are added
 * where the command line did not give the same flag, or another of its group. `warn` gets the
 * one-line warnings (a config file holding key material that others can read).
 */
export function parseTool(spec: ToolSpec, argv: string[], warn: (line: string) => void = warnOnce(spec.program)): Flags {
  const all = toolFlags(spec);
  const values = all.filter((f) => f.value !== undefined).map((f) => f.name);
  const switches = all.filter((f) => f.value === undefined).map((f) => f.name);
  const flags = parseFlags(argv, values, switches);
  const file = spec.config ? flags.get(CONFIG_FLAG.name) : undefined;
  if (file === undefined) return flags;
  const typedGroups = new Set(spec.flags.filter((f) => f.group !== undefined && flags.has(f.name)).map((f) => f.group));
  const names = new Set<string>();
  for (const [name, value] of readConfigFile(spec, file, warn)) {
    const group = spec.flags.find((f) => f.name === name)?.group;
    if (flags.has(name) || (group !== undefined && typedGroups.has(group))) continue;
    flags.set(name, value);
    names.add(name);
  }
  fromConfig.set(flags, { file, names });
  return flags;
}

/** "<program>: warning: …" on stderr, from the process a user started: a cluster worker parses the same flags again. */
function warnOnce(program: string): (line: string) => void {
  return (line) => {
    if (!cluster.isWorker) writeError(program + ": warning: " + line);
  };
}

/** A JSON value as a message quotes it: as JSON, short enough for one line. */
function jsonValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 72 ? text.slice(0, 72) + "…" : text;
}

/**
 * A config file's flags as [name, value text] pairs: a JSON object whose keys are the tool's
 * long flag names; a value flag takes a string or a number, a switch true or false (false:
 * as if absent). Unreadable, not JSON, not an object, an unknown key or a value of the wrong
 * type → a UsageError naming the file (and the key).
 */
function readConfigFile(spec: ToolSpec, file: string, warn: (line: string) => void): Array<[string, string]> {
  const text = readFlagFile("config", file).toString("utf8");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(file + ": not valid JSON: " + oneLine(err));
  }
  if (data === null || typeof data !== "object" || Array.isArray(data))
    throw new UsageError(file + ': must hold one JSON object of flags, like {"port": 12345}, got ' + jsonValue(data));
  const pairs: Array<[string, string]> = [];
  let secret: string | undefined;
  for (const [key, value] of Object.entries(data)) {
    const flag = spec.flags.find((f) => f.name === key);
    if (key === CONFIG_FLAG.name) throw new UsageError(file + ': "config": a config file cannot name another one');
    if (!flag)
      throw new UsageError(
        file +
          ': unknown key "' +
          key +
          '"' +
          (suggestion(
            key,
            spec.flags.map((f) => f.name),
            (n) => '"' + n + '"',
          ) || " (keys are the long flag names, as in --help)"),
      );
    if (flag.value === undefined) {
      if (typeof value !== "boolean") throw new UsageError(file + ': "' + key + '" must be true or false (--' + key + " is a switch), got " + jsonValue(value));
      if (value) pairs.push([key, ""]);
      continue;
    }
    if (typeof value === "string") pairs.push([key, value]);
    else if (typeof value === "number" && Number.isFinite(value)) pairs.push([key, String(value)]);
    else throw new UsageError(file + ': "' + key + '" must be a string or a number (as --' + key + " " + flag.value + "), got " + jsonValue(value));
    if (flag.secret && secret === undefined) secret = key;
  }
  if (secret !== undefined) warnIfOthersCanRead(file, 'holds "' + secret + '"', warn);
  return pairs;
}

/**
 * Warns (one line) when a file holding key material can be read by its group or by everyone:
 * what `chmod 600` fixes. Nothing on Windows, where the mode bits do not say that.
 */
export function warnIfOthersCanRead(
  file: string,
  what: string,
  warn: (line: string) => void,
  remedy = ', or keep the key in a file named by "key-file"',
): void {
  if (process.platform === "win32") return;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o044) === 0) return;
  warn(file + " " + what + " and other users can read it (mode " + mode.toString(8).padStart(3, "0") + "): chmod 600 " + file + remedy);
}

/** A whole number in [min, max]. */
export function intFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError("--" + name + " must be a whole number, got '" + text + "'", name);
  const value = Number(text.trim());
  if (value < min || value > max) throw new UsageError("--" + name + " must be from " + min + " to " + max + ", got " + value, name);
  return value;
}

/** A decimal number (fractions allowed) in [min, max]. */
export function numberFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  if (!/^-?\d+(\.\d+)?$/.test(text.trim()) || value < min || value > max)
    throw new UsageError("--" + name + " must be a number from " + min + " to " + max + ", got '" + text + "'", name);
  return value;
}

/** A TCP port: 1..65535, or 0 (any free port) when allowZero. */
export function portFlag(flags: Flags, name: string, opts: { allowZero?: boolean; fallback?: number } = {}): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return opts.fallback;
  const min = opts.allowZero ? 0 : 1;
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > 65535)
    throw new UsageError(
      "--" + name + " must be a port from " + min + " to 65535" + (opts.allowZero ? " (0: any free port)" : "") + ", got '" + text + "'",
      name,
    );
  return value;
}

export function requireFlag(flags: Flags, name: string, what: string): string {
  const value = flags.get(name);
  if (value === undefined || value === "") throw new UsageError("--" + name + " " + what + " is required", name);
  return value;
}

export function choiceFlag<T extends string>(flags: Flags, name: string, choices: readonly T[], fallback?: T): T {
  const value = flags.get(name);
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError("--" + name + " is required (" + choices.join(" | ") + ")");
    return fallback;
  }
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError("--" + name + " must be one of " + choices.join(", ") + ", got '" + value + "'", name);
  return value as T;
}

/**
 * A comma-separated selection of names from `known` (`--only a,b` or `--only=a,b`), in the
 * order given; undefined when the flag is absent. An unknown or empty name is a UsageError
 * naming it and listing the known ones (`what`: "suite", "scenario").
 */
export function listFlag(flags: Flags, name: string, known: readonly string[], what: string): string[] | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const names = text.split(",").map((part) => part.trim());
  for (const n of names) {
    if (!known.includes(n))
      throw new UsageError(
        "--" + name + ": " + (n === "" ? "empty " + what + " name" : "unknown " + what + " '" + n + "'") + " (known: " + known.join(", ") + ")",
        name,
      );
  }
  return names.filter((n, i) => names.indexOf(n) === i);
}

/** --device-id ID (profile v2 only): the id a client names itself by; what lwstcp-client, lwstcp-bench and lwstcp-sim take. */
export const DEVICE_ID_FLAG_SPEC: FlagSpec = {
  name: "device-id",
  value: "ID",
  help: "profile v2: the device id sent in the handshake (1-32 printable ASCII characters, no spaces), for a server with --keys",
};

/** The --device-id value, checked (undefined when absent); it needs profile v2. */
export function deviceIdFlag(flags: Flags, profile: string): string | undefined {
  const id = flags.get("device-id");
  if (id === undefined) return undefined;
  const problem = deviceIdProblem(id);
  if (problem) throw new UsageError("--device-id: " + problem);
  if (profile !== "v2") throw new UsageError("--device-id needs --profile v2: the v1 wire format cannot carry a device id");
  return id;
}

export const KEY_FLAGS = ["key", "key-words", "key-file"];

export const KEY_FLAG_SPECS: FlagSpec[] = [
  {
    name: "key",
    value: "HEX64",
    help: "handshake key as 64 hex digits, each u32 word little-endian (wire order); or set env LWSTCP_KEY",
    group: "key",
    secret: true,
  },
  {
    name: "key-words",
    value: "W0,...,W7",
    help: "handshake key as 8 u32 words, as C++ code writes them: 0x12345678,0x9ABCDEF0,...",
    group: "key",
    secret: true,
  },
  { name: "key-file", value: "FILE", help: "file holding the key: 64 hex digits, 8 words, or 32 raw bytes", group: "key" },
];

const KEY_SHAPE = "must be 64 hex digits or 8 u32 words (0x… or decimal)";

/** The value as a message quotes it: short enough for one line. */
function quoted(text: string): string {
  const oneLine = text.trim().replace(/\s+/g, " ");
  return "'" + (oneLine.length > 72 ? oneLine.slice(0, 72) + "…" : oneLine) + "'";
}

function keyFromText(text: string, source: string): Uint32Array {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return parseKey(trimmed);
  const parts = trimmed.split(/[\s,]+/).filter((part) => part !== "");
  if (parts.length !== 8) throw new UsageError(source + " " + KEY_SHAPE + ", got " + quoted(text));
  const words = parts.map((part, i) => {
    if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(part)) throw new UsageError(source + ": word " + i + " ('" + part + "') is not a u32 in hex (0x…) or decimal");
    const value = Number(part);
    if (value > 0xffffffff) throw new UsageError(source + ": word " + i + " (" + part + ") is larger than 0xFFFFFFFF");
    return value;
  });
  return parseKey(words);
}

/**
 * The handshake key from --key HEX64, --key-words W0,…,W7, --key-file F (64 hex digits,
 * 8 words, or 32 raw bytes) or the LWSTCP_KEY environment variable; at most one flag. Every
 * source accepts either spelling and answers a bad value with the same message.
 */
export function keyFromFlags(flags: Flags, env: NodeJS.ProcessEnv): Uint32Array {
  const given = KEY_FLAGS.filter((name) => flags.has(name));
  if (given.length > 1) throw new UsageError("give only one of --key, --key-words, --key-file (got " + given.map((n) => "--" + n).join(", ") + ")");
  if (flags.has("key")) return about("key", () => keyFromText(flags.get("key") as string, "--key"));
  if (flags.has("key-words")) return about("key-words", () => keyFromText(flags.get("key-words") as string, "--key-words"));
  if (flags.has("key-file")) return about("key-file", () => keyFromFile(flags.get("key-file") as string));
  if (env.LWSTCP_KEY !== undefined && env.LWSTCP_KEY !== "") return keyFromText(env.LWSTCP_KEY, "LWSTCP_KEY");
  throw new UsageError("no handshake key: pass --key HEX64, --key-words W0,...,W7 or --key-file F, or set LWSTCP_KEY");
}

/** Runs `read`, marking a UsageError it throws as being about `flag`. */
function about<T>(flag: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof UsageError && err.flag === undefined) throw new UsageError(err.message, flag);
    throw err;
  }
}

/** The bytes of the file a flag names; a UsageError "--flag: cannot read FILE: ENOENT" when there are none. */
export function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError("--" + flag + ": cannot read " + file + ": " + ((err as NodeJS.ErrnoException).code || (err as Error).message));
  }
}

/** The key from a --key-file: 64 hex digits, 8 words, or 32 raw bytes. */
function keyFromFile(file: string): Uint32Array {
  const raw = readFlagFile("key-file", file);
  const text = raw.toString("latin1");
  if (raw.length === 32 && !/^[\x20-\x7e\s]*$/.test(text)) return parseKey(new Uint8Array(raw));
  if (!/^[\x20-\x7e\s]*$/.test(text)) throw new UsageError("--key-file " + file + " " + KEY_SHAPE + " or 32 raw bytes, got " + raw.length + " bytes");
  return keyFromText(text, "--key-file " + file);
}

export function isDemoKey(key: Uint32Array): boolean {
  return keyToHex(key) === keyToHex(Uint32Array.from(DEMO_KEY_WORDS));
}

export const DEMO_KEY_WARNING = [
  "!!! WARNING: this uses the PUBLIC demo key of the LightweightSecureTCP FizzBuzz example",
  "!!! (0x12345678,0x9ABCDEF0,...). Anyone can read and forge this traffic. It is for trying",
  "!!! the demo only: give real devices a secret key (--key, --key-words, --key-file or LWSTCP_KEY).",
].join("\n");

const BUILT_IN_FLAGS: FlagSpec[] = [
  { name: "help", help: "print this help and exit" },
  { name: "version", help: "print the version and exit" },
];

/** Usage, summary, every flag with its default, and the examples. */
export function helpText(spec: ToolSpec): string {
  const flags = [...toolFlags(spec), ...BUILT_IN_FLAGS];
  const left = flags.map((f) => "  --" + f.name + (f.value ? " " + f.value : ""));
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = ["usage: " + spec.program + " " + spec.usage, "", spec.summary, "", "flags:"];
  flags.forEach((f, i) => {
    const help = f.help + (f.default !== undefined ? " (default: " + f.default + ")" : "");
    lines.push(left[i].padEnd(width) + help);
  });
  lines.push("", spec.examples.length > 1 ? "examples:" : "example:");
  for (const example of spec.examples) lines.push("  " + example);
  return lines.join("\n") + "\n";
}

/** The version in package.json (build/server/cli/args.js and server/cli/args.ts are both three levels down). */
export function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0];
}

let quietOnClosedPipe = false;
let mainResult: number | undefined;

/**
 * A closed stdout or stderr (output piped into `head -1`) ends the process at once and
 * quietly, as SIGPIPE would end a C tool, instead of an EPIPE stack; the exit code is main's
 * result when it has one, else 0. Idempotent; runTool and runCli install it.
 */
export function exitQuietlyOnClosedPipe(): void {
  if (quietOnClosedPipe) return;
  quietOnClosedPipe = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") process.exit(mainResult ?? process.exitCode ?? 0);
      throw err;
    });
  }
}

function writeError(line: string): void {
  try {
    process.stderr.write(line + "\n");
  } catch {
    // stderr is gone too: the exit code still says what happened.
  }
}

/**
 * Runs a tool: --help/-h anywhere → help on stdout, exit 0; --version → "<program> <version>",
 * exit 0; otherwise parses argv strictly against the spec and calls main. A UsageError → one
 * line "<program>: <message> (see --help)" on stderr, exit 2; any other error → one line
 * "<program>: <message>", exit 1 (the stack only when LWSTCP_DEBUG=1). The exit code is main's
 * result (set as process.exitCode: a server that keeps listening stays up).
 */
export function runTool(spec: ToolSpec, main: (flags: Flags) => Promise<number>): void {
  exitQuietlyOnClosedPipe();
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(helpText(spec));
    process.exitCode = 0;
    return;
  }
  if (argv.includes("--version")) {
    process.stdout.write(spec.program + " " + packageVersion() + "\n");
    process.exitCode = 0;
    return;
  }
  let started: Promise<number>;
  let flags: Flags | undefined;
  try {
    flags = parseTool(spec, argv);
    started = main(flags);
  } catch (err) {
    started = Promise.reject(err);
  }
  started.then(
    (code) => {
      mainResult = code;
      process.exitCode = code;
    },
    (err) => {
      if (err instanceof UsageError) {
        // A bad value from the config file: say which file and key, then the flag's own message.
        const file = flags && err.flag !== undefined ? configFileOf(flags, err.flag) : undefined;
        writeError(spec.program + ": " + (file !== undefined ? file + ': "' + err.flag + '": ' : "") + err.message + " (see --help)");
        process.exit(2);
      }
      writeError(spec.program + ": " + oneLine(err));
      if (process.env.LWSTCP_DEBUG === "1" && err instanceof Error && err.stack) writeError(err.stack);
      process.exit(1);
    },
  );
}

/** Runs a CLI main without a spec (kept for older callers): errors as runTool reports them. */
export function runCli(program: string, main: () => Promise<number>): void {
  exitQuietlyOnClosedPipe();
  main().then(
    (code) => {
      mainResult = code;
      process.exitCode = code;
    },
    (err) => {
      if (err instanceof UsageError) {
        writeError(program + ": " + err.message + " (see --help)");
        process.exit(2);
      }
      writeError(program + ": " + oneLine(err));
      if (process.env.LWSTCP_DEBUG === "1" && err instanceof Error && err.stack) writeError(err.stack);
      process.exit(1);
    },
  );
}
