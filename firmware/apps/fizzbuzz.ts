// FizzBuzz as the C++ library's ESP32 ↔ desktop example plays it, so our apps pair with
// its peers: each side answers a message starting with n with the line for n + 1, which is
// the number, a space, and "Fizz", "Buzz", "FizzBuzz", or (n % 4 + 2) spaces and "(:".
// The one place the rule lives: the device app and the desktop server and client all use it.
// ES5-safe for the Espruino bundle.

/** The text after the number: Fizz, Buzz, FizzBuzz, or a smiley indented by n % 4 + 2 spaces. */
export function fizzBuzzText(n: number): string {
  let text = "";
  if (n % 3 === 0) text += "Fizz";
  if (n % 5 === 0) text += "Buzz";
  if (!text) {
    for (let i = 0; i < (n % 4) + 2; i++) text += " ";
    text += "(:";
  }
  return text;
}

/** The whole line for n, e.g. "3 Fizz", "15 FizzBuzz", "2     (:". */
export function fizzBuzzLine(n: number): string {
  return n + " " + fizzBuzzText(n);
}

/** The leading integer of a FizzBuzz line (as C++ std::stoi reads it), or NaN if there is none. */
export function fizzBuzzNumber(line: string): number {
  const match = /^\s*(\d+)/.exec(line);
  return match ? parseInt(match[1], 10) : NaN;
}

/** The next number cannot be told apart from this one above 2^53 - 1 (Number.MAX_SAFE_INTEGER, not in ES5). */
const LAST_SAFE_INTEGER = 9007199254740991;

/**
 * The answer to a FizzBuzz line: the line for n + 1 when it starts with n, or null when it does
 * not start with a number (the C++ example would throw) or n + 1 is past exact integers.
 */
export function fizzBuzzReply(text: string): string | null {
  const n = fizzBuzzNumber(text);
  return n < LAST_SAFE_INTEGER ? fizzBuzzLine(n + 1) : null;
}
