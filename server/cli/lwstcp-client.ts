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
import { fizzBuzzReply } from "../fizzbuzz.js";
import { createLogger, type LogFormat, type LogFunction } from "../log.js";
import {
  choiceFlag,
  DEMO_KEY_WARNING,
  DEVICE_ID_FLAG_SPEC,
  deviceIdFlag,
  type Flags,
  intFlag,
  isDemoKey,
  KEY_FLAG_SPECS,
  keyFromFlags,
  portFlag,
  runTool,
  type ToolSpec,
  UsageError,
} from "./args.js";

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

const CLIENT_SPEC: ToolSpec = {
  program: "lwstcp-client",
  summary: "Connects to a LightweightSecureTCP server and checks it: plays FizzBuzz, verifies echoes, or sends stdin lines.",
  usage: "--port P [--host H] (--key HEX64 | --key-words W0,...,W7 | --key-file F | env LWSTCP_KEY) --mode fizzbuzz|echo|lines [flags]",
  flags: [
    { name: "host", value: "HOST", help: "server address", default: "127.0.0.1" },
    { name: "port", value: "PORT", help: "server port, 1..65535; required" },
    ...KEY_FLAG_SPECS,
    { name: "rounds", value: "R", help: "XTEA rounds, 1..128; must match the server (profile v1 only)", default: 32 },
    { name: "profile", value: "v1|v2", help: "v1: the C++ library's wire format; v2: authenticated; must match the server", default: "v1" },
    DEVICE_ID_FLAG_SPEC,
    { name: "keepalive", value: "MS", help: "send KeepAlive after this many ms without sending", default: 5000 },
    { name: "timeout", value: "MS", help: "close the session after this many ms without receiving (-1 disables)", default: 30000 },
    { name: "log", value: "text|json", help: "log format for the events on stderr", default: "text" },
    {
      name: "mode",
      value: "fizzbuzz|echo|lines",
      help: 'required. fizzbuzz: send "1" and verify N replies; echo: verify one echo per --sizes entry (server --mode echo); lines: send stdin lines, print what arrives',
    },
    { name: "count", value: "N", help: "fizzbuzz: replies to verify; required with --mode fizzbuzz" },
    { name: "sizes", value: "S1,S2,...", help: "echo: message sizes in bytes, 1.." + MAX_MESSAGE_LENGTH + "; required with --mode echo" },
  ],
  examples: [
    "lwstcp-client --port 12345 --mode fizzbuzz --count 100 --key-words 0x12345678,0x9ABCDEF0,0x13572468,0xACEBDF01,0x11223344,0x55667788,0x99AABBCC,0xDDEEFF00",
    "echo hello | lwstcp-client --host 192.168.1.20 --port 12345 --key-file my.key --mode lines",
  ],
};
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

async function main(flags: Flags): Promise<number> {
  const host = flags.get("host") || "127.0.0.1";
  const port = portFlag(flags, "port");
  if (port === undefined) throw new UsageError("--port P is required");
  const key = keyFromFlags(flags, process.env);
  const mode = choiceFlag(flags, "mode", MODES);
  const format = choiceFlag<LogFormat>(flags, "log", ["text", "json"], "text");
  const profile = choiceFlag(flags, "profile", PROFILES, "v1");
  const deviceId = deviceIdFlag(flags, profile);
  const count = intFlag(flags, "count", 1, 2 ** 31);
  if (mode === "fizzbuzz" && count === undefined) throw new UsageError("--mode fizzbuzz needs --count N");
  const sizes = mode === "echo" ? sizesFlag(flags.get("sizes")) : [];
  let client: LightweightSecureClient;
  try {
    client = new LightweightSecureClient(host, port, {
      key,
      rounds: intFlag(flags, "rounds", 1, 128),
      profile,
      deviceId,
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
    // `line` is "1", then a reply that matched its expected line: it starts with a number.
    const expected = fizzBuzzReply(line) as string;
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
    line = fizzBuzzReply(text) as string;
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

runTool(CLIENT_SPEC, (flags) => main(flags).then((code) => process.exit(code)));
