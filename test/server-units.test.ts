// The desktop layer's pure pieces: reconnect backoff, the FizzBuzz reply rule, log lines,
// and command-line parsing.

import assert from "node:assert/strict";
import { readBackoff } from "../server/backoff.js";
import { keyFromFlags, parseFlags, UsageError } from "../server/cli/args.js";
import { backoffDelay, fizzBuzzReply } from "../server/index.js";
import { createLogger } from "../server/log.js";
import { KEY_HEX } from "./helpers/server.js";

describe("server building blocks", () => {
  it("backs off exponentially up to the ceiling, with jitter inside [d(1-j), d]", () => {
    const b = readBackoff({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 });
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(b, a, () => 0)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.deepEqual(
      [0, 3, 10].map((a) => backoffDelay(b, a, () => 0.999999)),
      [50, 400, 500],
    );
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(b, 3)));
    assert.ok(spread.size > 10, "delays are spread, not lock-step");
    for (const d of spread) assert.ok(d >= 400 && d <= 800);
    assert.throws(() => readBackoff({ jitter: 2 }), /jitter/);
  });

  it("answers a FizzBuzz message with the line for n + 1, and nothing for non-numbers", () => {
    assert.equal(fizzBuzzReply("1"), "2     (:");
    assert.equal(fizzBuzzReply("2     (:"), "3 Fizz");
    assert.equal(fizzBuzzReply("14     (:"), "15 FizzBuzz");
    assert.equal(fizzBuzzReply("hello"), null);
  });

  it("writes text and JSON log lines", () => {
    const lines: string[] = [];
    const clock = () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    createLogger("json", (l) => lines.push(l), clock)("handshake-failed", { peer: "1.2.3.4:5", reason: "verify-failed", bytes: undefined });
    createLogger("text", (l) => lines.push(l), clock)("message", { peer: "1.2.3.4:5", bytes: 3, text: "a b" });
    assert.deepEqual(JSON.parse(lines[0]), {
      t: "2026-01-02T03:04:05.006Z",
      level: "info",
      event: "handshake-failed",
      peer: "1.2.3.4:5",
      reason: "verify-failed",
    });
    assert.equal(lines[1], '2026-01-02T03:04:05.006Z message peer=1.2.3.4:5 bytes=3 text="a b"');
  });

  it("parses flags strictly and reads keys from every source", () => {
    assert.deepEqual(
      [...parseFlags(["--port", "1", "--timeout", "-1", "--mode=echo"], ["port", "timeout", "mode"])],
      [
        ["port", "1"],
        ["timeout", "-1"],
        ["mode", "echo"],
      ],
    );
    assert.throws(() => parseFlags(["--port"], ["port"]), UsageError);
    assert.throws(() => parseFlags(["--port", "1", "--port", "2"], ["port"]), /more than once/);
    const hexKey = keyFromFlags(new Map([["key", KEY_HEX]]), {});
    const words = Array.from(hexKey, (w) => "0x" + w.toString(16)).join(",");
    assert.deepEqual(keyFromFlags(new Map([["key-words", words]]), {}), hexKey);
    assert.deepEqual(keyFromFlags(new Map(), { LWSTCP_KEY: KEY_HEX }), hexKey);
    assert.throws(() => keyFromFlags(new Map([["key-words", "1,2,3,4,5,6,7,4294967296"]]), {}), /word 7 .*larger than 0xFFFFFFFF/);
    assert.throws(() => keyFromFlags(new Map([["key-words", "1,2,3,4,5,6,7,0x100000000"]]), {}), /word 7 .*not a u32/);
    assert.throws(() => keyFromFlags(new Map([["key", "zz" + KEY_HEX.slice(2)]]), {}), /64 hex digits/);
  });
});
