// The desktop side of FizzBuzz. The lines themselves (exactly as the C++ example plays
// them) live in firmware/apps/fizzbuzz.ts, shared with the device app; this adds the
// server's reply rule: a message starting with n is answered with the line for n + 1.

import { fizzBuzzLine, fizzBuzzNumber, fizzBuzzText } from "../firmware/apps/fizzbuzz.js";

export { fizzBuzzLine, fizzBuzzNumber, fizzBuzzText };

/** The reply to a received message, or null when it does not start with a number (the C++ example would throw). */
export function fizzBuzzReply(text: string): string | null {
  const n = fizzBuzzNumber(text);
  return Number.isSafeInteger(n) && n < Number.MAX_SAFE_INTEGER ? fizzBuzzLine(n + 1) : null;
}
