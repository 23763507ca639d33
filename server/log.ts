// One line per event for the CLIs: a readable line with a timestamp by default, or with
// `--log json` one JSON object per line ({"t", "level", "event", "peer", "reason", "bytes", ...})
// for machines. Fields that are undefined are left out.
//
// Every event has a level (EVENT_LEVELS; docs/FLEET.md has the table users read), and
// `--log-level` drops the events below it. Text lines do not spell the level out: the event
// name already says what happened, and a line keeps the shape scripts already parse. When
// stdout is the systemd journal, each line starts with the syslog priority ("<4>"), which
// journald takes off and keeps as the entry's priority, so `journalctl -p warning` works.

import { fstatSync } from "node:fs";
import { choiceFlag, type FlagSpec, type Flags, UsageError } from "./cli/args.js";

export type LogFormat = "text" | "json";

export type LogLevel = "error" | "warn" | "info" | "debug";

/** Most severe first: a logger at one level writes it and every level before it. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

/**
 * The level of each event the CLIs write. error: something failed; warn: the server turned
 * something away or lost a worker; info: the life of the process and of each session; debug:
 * every handshake attempt and every message (a line per message costs more than the message).
 */
export const EVENT_LEVELS: Readonly<Record<string, LogLevel>> = {
  error: "error",
  refused: "warn",
  "worker-exited": "warn",
  started: "info",
  stopping: "info",
  stopped: "info",
  stats: "info",
  "handshake-success": "info",
  "handshake-failed": "info",
  "session-ended": "info",
  "handshake-started": "debug",
  message: "debug",
};

/**
 * Written at every level: one of each per run, and "started" is where a supervisor or a test
 * learns that the server listens (and on which port, with --port 0).
 */
export const ALWAYS_LOGGED: readonly string[] = ["started", "stopping", "stopped"];

/** An event's level: its entry in EVENT_LEVELS, else info. */
export function eventLevel(event: string): LogLevel {
  return Object.hasOwn(EVENT_LEVELS, event) ? EVENT_LEVELS[event] : "info";
}

/** syslog priorities (sd-daemon(3)): what journald reads from a "<N>" line prefix. */
const JOURNAL_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface LogFields {
  peer?: string;
  reason?: string;
  bytes?: number;
  [name: string]: string | number | boolean | undefined;
}

export type LogFunction = (event: string, fields?: LogFields) => void;

export interface LoggerOptions {
  /** Events below this level are not written (default "debug": all of them). */
  level?: LogLevel;
  /** An event's level (default eventLevel). */
  levelOf?: (event: string) => LogLevel;
  /** Start each line with its syslog priority for journald (see stdoutIsJournal). */
  journal?: boolean;
}

export function createLogger(
  format: LogFormat,
  writeLine: (line: string) => void,
  clock: () => Date = () => new Date(),
  options: LoggerOptions = {},
): LogFunction {
  const most = LOG_LEVELS.indexOf(options.level ?? "debug");
  const levelOf = options.levelOf ?? eventLevel;
  return (event, fields = {}) => {
    const level = levelOf(event);
    if (LOG_LEVELS.indexOf(level) > most && !ALWAYS_LOGGED.includes(event)) return;
    const t = clock().toISOString();
    const prefix = options.journal ? "<" + JOURNAL_PRIORITY[level] + ">" : "";
    if (format === "json") {
      const record: Record<string, unknown> = { t, level, event };
      for (const name of Object.keys(fields)) if (fields[name] !== undefined) record[name] = fields[name];
      writeLine(prefix + JSON.stringify(record));
      return;
    }
    let line = prefix + t + " " + event;
    for (const name of Object.keys(fields)) {
      const value = fields[name];
      if (value === undefined) continue;
      const text = String(value);
      line += " " + name + "=" + (typeof value === "string" && (text === "" || /[\s"=]/.test(text)) ? JSON.stringify(text) : text);
    }
    writeLine(line);
  };
}

/**
 * True when stdout is a stream into the systemd journal: systemd sets JOURNAL_STREAM to that
 * stream's "device:inode", so output redirected elsewhere (a pipe, a file) is not mistaken for it.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const stat = fstatSync(1, { bigint: true });
    return stream === stat.dev + ":" + stat.ino;
  } catch {
    return false;
  }
}

/** --log-level, and --quiet, which the server had first and which stays as --log-level warn. */
export const LOG_LEVEL_FLAG_SPECS: FlagSpec[] = [
  {
    name: "log-level",
    value: "error|warn|info|debug",
    help: "the least severe events to log: info adds sessions to warn's refusals, debug every handshake and message",
    default: "info",
    group: "log-level",
  },
  { name: "quiet", help: "same as --log-level warn: no per-session lines (for load)", group: "log-level" },
];

/** The level from --log-level or --quiet (not both); info when neither is given. */
export function logLevelFromFlags(flags: Flags): LogLevel {
  if (flags.has("quiet") && flags.has("log-level")) throw new UsageError("give --log-level or --quiet (= --log-level warn), not both", "log-level");
  if (flags.has("quiet")) return "warn";
  return choiceFlag(flags, "log-level", LOG_LEVELS, "info");
}
