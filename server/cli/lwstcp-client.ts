#!/usr/bin/env node
// lwstcp-client: connects to a LightweightSecureTCP server and checks it.
//   --mode fizzbuzz --count N   send "1", play FizzBuzz until N replies arrived, verify each
//   --mode echo --sizes 1,8,…   send messages of those byte sizes, verify each echo (under v1 this
//                               proves nothing about the server: see ECHO_V1_NOTE)
//   --mode lines                send stdin lines, print what arrives
// Exit 0 when everything checked out, 1 when something did not, 2 for bad flags or key.
// Events are logged to stderr, so stdout carries only what the mode prints.

import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { MAX_MESSAGE_LENGTH } from "../../firmware/core/index.js";
import { LightweightSecureClient } from "../client.js";
import { fizzBuzzLine } from "../fizzbuzz.js";
import { createLogger, type LogFormat, type LogFunction } from "../log.js";
import { choiceFlag, DEMO_KEY_WARNING, intFlag, isDemoKey, KEY_FLAGS, keyFromFlags, parseFlags, runCli, UsageError } from "./args.js";

const USAGE = `usage: lwstcp-client --host H --port P (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY) [--rounds R]
                     [--profile v1|v2] [--keepalive MS] [--timeout MS] [--log text|json]
                     (--mode fizzbuzz --count N | --mode echo --sizes 1,8,65528 | --mode lines)
  fizzbuzz  sends "1" and plays FizzBuzz until N replies arrived, verifying each; exit 0 only if all were right
  echo      sends one message of each size (random bytes) and verifies the echoes (server in --mode echo);
            under v1 a pass proves nothing about the server (anything that reflects our packets passes):
            use --profile v2, or fizzbuzz, to check that the server holds the key
  lines     sends each line of stdin and prints each message that arrives
  --profile v1 (default: the C++ library's wire format) or v2 (authenticated); must match the server`;

const MODES = ["fizzbuzz", "echo", "lines"] as const;
/**
 * v1 uses one session key in both directions and never authenticates the server, so a keyless
 * impostor that sends our own packets back passes an echo check (test/server-cli-hardening.test.ts
 * shows it). Under v2 the same impostor fails the handshake (proof-failed); fizzbuzz needs a
 * server that decrypted "n" to answer n + 1.
 */
const ECHO_V1_NOTE =
  "note: under profile v1 an echo check does not show that the server holds the key (a reflector passes it); use --profile v2 or --mode fizzbuzz for that";
const PROFILES = ["v1", "v2"] as const;
/** How long a reply may take before fizzbuzz or echo mode gives up. */
const REPLY_TIMEOUT_MS = 10000;
/** After stdin ends in lines mode, replies still arriving are printed until this much quiet. */
const LINES_QUIET_MS = 300;

function sizesFlag(text: string | undefined): number[] {
  if (text === undefined || text === "") throw new UsageError("--mode echo needs --sizes, e.g. --sizes 1,8,65528");
  return text.split(",").map((part) => {
    const value = Number(part.trim());
    if (!/^\d+$/.test(part.trim()) || value < 1 || value > MAX_MESSAGE_LENGTH) {
      throw new UsageError("--sizes: each size must be a whole number from 1 to " + MAX_MESSAGE_LENGTH + ", got '" + part + "'");
    }
    return value;
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const flags = parseFlags(argv, ["host", "port", ...KEY_FLAGS, "rounds", "profile", "keepalive", "timeout", "mode", "count", "sizes", "log"]);
  const host = flags.get("host") || "127.0.0.1";
  const port = intFlag(flags, "port", 1, 65535);
  if (port === undefined) throw new UsageError("--port P is required");
  const key = keyFromFlags(flags, process.env);
  const mode = choiceFlag(flags, "mode", MODES);
  const format = choiceFlag<LogFormat>(flags, "log", ["text", "json"], "text");
  const profile = choiceFlag(flags, "profile", PROFILES, "v1");
  const count = intFlag(flags, "count", 1, 2 ** 31);
  if (mode === "fizzbuzz" && count === undefined) throw new UsageError("--mode fizzbuzz needs --count N");
  const sizes = mode === "echo" ? sizesFlag(flags.get("sizes")) : [];
  let client: LightweightSecureClient;
  try {
    client = new LightweightSecureClient(host, port, {
      key,
      rounds: intFlag(flags, "rounds", 1, 128),
      profile,
      keepAliveIntervalMs: intFlag(flags, "keepalive", 1, 2 ** 31),
      inactivityTimeoutMs: intFlag(flags, "timeout", -1, 2 ** 31),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (isDemoKey(key)) process.stderr.write(DEMO_KEY_WARNING + "\n");
  const log = createLogger(format, (line) => process.stderr.write(line + "\n"));
  const peer = host + ":" + port;
  client.on("error", (error: Error) => log("error", { peer, reason: error.message }));

  const result = await client.connectToServer();
  if (!result.success) {
    log("handshake-failed", { peer, reason: result.reason, message: result.errorMessage });
    return 1;
  }
  log("handshake-success", { peer });

  // Every mode ends through finish(): Disconnect (if still open), then the exit code.
  let done = false;
  const finish = (code: number): Promise<number> => {
    done = true;
    return client.disconnect().then(() => code);
  };
  const ended = new Promise<string>((resolve) => client.once("disconnected", resolve));

  if (mode === "lines") return runLines(client, log, peer, ended, finish);
  if (mode === "echo") {
    if (profile === "v1") process.stderr.write(ECHO_V1_NOTE + "\n");
    return runEcho(client, log, peer, sizes, ended, finish);
  }
  return runFizzBuzz(client, log, peer, count as number, ended, finish, () => done);
}

/** Resolves with the next message, or rejects when the session ends or the reply is late. */
function nextMessage(client: LightweightSecureClient, ended: Promise<string>): Promise<{ text: string; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener("message", onMessage);
      reject(new Error("no reply within " + REPLY_TIMEOUT_MS + " ms"));
    }, REPLY_TIMEOUT_MS);
    const onMessage = (text: string, bytes: Buffer) => {
      clearTimeout(timer);
      resolve({ text, bytes });
    };
    client.once("message", onMessage);
    ended.then((reason) => {
      clearTimeout(timer);
      client.removeListener("message", onMessage);
      reject(new Error("the session ended (" + reason + ")"));
    });
  });
}

async function runFizzBuzz(
  client: LightweightSecureClient,
  log: LogFunction,
  peer: string,
  count: number,
  ended: Promise<string>,
  finish: (code: number) => Promise<number>,
  isDone: () => boolean,
): Promise<number> {
  let line = "1";
  for (let replies = 0; replies < count && !isDone(); ) {
    const expected = fizzBuzzLine(Number.parseInt(line, 10) + 1);
    const reply = nextMessage(client, ended);
    client.sendMessage(line);
    let text: string;
    try {
      text = (await reply).text;
    } catch (err) {
      log("error", { peer, reason: (err as Error).message, replies });
      return finish(1);
    }
    replies++;
    if (text !== expected) {
      log("error", { peer, reason: "wrong reply " + JSON.stringify(text) + ", expected " + JSON.stringify(expected), replies });
      return finish(1);
    }
    line = fizzBuzzLine(Number.parseInt(text, 10) + 1);
  }
  process.stdout.write("fizzbuzz: " + count + " replies verified\n");
  return finish(0);
}

async function runEcho(
  client: LightweightSecureClient,
  log: LogFunction,
  peer: string,
  sizes: number[],
  ended: Promise<string>,
  finish: (code: number) => Promise<number>,
): Promise<number> {
  for (const size of sizes) {
    const sent = randomBytes(size);
    const reply = nextMessage(client, ended);
    client.sendMessage(sent);
    let bytes: Buffer;
    try {
      bytes = (await reply).bytes;
    } catch (err) {
      log("error", { peer, reason: (err as Error).message, bytes: size });
      return finish(1);
    }
    if (!bytes.equals(sent)) {
      log("error", { peer, reason: "echo of " + size + " bytes differs (got " + bytes.length + " bytes)" });
      return finish(1);
    }
    process.stdout.write("echo: " + size + " bytes ok\n");
  }
  return finish(0);
}

function runLines(
  client: LightweightSecureClient,
  log: LogFunction,
  peer: string,
  ended: Promise<string>,
  finish: (code: number) => Promise<number>,
): Promise<number> {
  let lastArrival = Date.now();
  client.on("message", (text: string) => {
    lastArrival = Date.now();
    process.stdout.write(text + "\n");
  });
  return new Promise<number>((resolve) => {
    const input = createInterface({ input: process.stdin });
    let stop = (code: number) => {
      stop = () => {};
      input.close();
      resolve(finish(code));
    };
    const onSignal = () => stop(0);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    ended.then((reason) => {
      log("session-ended", { peer, reason });
      stop(reason === "disconnect" ? 0 : 1);
    });
    input.on("line", (line) => {
      if (line === "") return; // the protocol has no empty messages
      try {
        client.sendMessage(line);
      } catch (err) {
        log("error", { peer, reason: (err as Error).message });
      }
    });
    input.on("close", () => {
      const waitQuiet = () => {
        const quiet = Date.now() - lastArrival;
        if (quiet >= LINES_QUIET_MS) stop(0);
        else setTimeout(waitQuiet, LINES_QUIET_MS - quiet);
      };
      setTimeout(waitQuiet, LINES_QUIET_MS);
    });
  });
}

runCli("lwstcp-client", () => main().then((code) => process.exit(code)));
