import assert from "node:assert/strict";
import { fizzBuzzLine, fizzBuzzNumber, fizzBuzzReply } from "../firmware/apps/fizzbuzz.js";
import * as library from "../server/index.js";

describe("FizzBuzz lines as the C++ example plays them", () => {
  it("match the example's published serial output", () => {
    // From the C++ ESP32-localhost example's README transcript.
    const transcript = [
      "2     (:",
      "3 Fizz",
      "4   (:",
      "5 Buzz",
      "6 Fizz",
      "7      (:",
      "8   (:",
      "9 Fizz",
      "10 Buzz",
      "11      (:",
      "12 Fizz",
      "13    (:",
      "14     (:",
      "15 FizzBuzz",
      "16   (:",
    ];
    assert.deepEqual(
      transcript.map((_, i) => fizzBuzzLine(i + 2)),
      transcript,
    );
  });

  it("reads the leading number back", () => {
    assert.equal(fizzBuzzNumber("15 FizzBuzz"), 15);
    assert.equal(fizzBuzzNumber("1"), 1);
    assert.ok(Number.isNaN(fizzBuzzNumber("Fizz")));
  });

  it("answers n with the line for n + 1, one rule for the device app, the server and the package", () => {
    assert.equal(fizzBuzzReply("1"), "2     (:");
    assert.equal(fizzBuzzReply("14     (:"), "15 FizzBuzz");
    assert.equal(fizzBuzzReply("hello"), null);
    assert.equal(fizzBuzzReply("9007199254740989"), "9007199254740990 FizzBuzz");
    assert.equal(fizzBuzzReply("9007199254740991"), null, "n + 1 past exact integers");
    assert.equal(library.fizzBuzzReply, fizzBuzzReply);
  });
});
