// FizzBuzz exactly as the C++ library's FizzBuzz example plays it
// (examples/ESP32-to-Desktop-FizzBuzz, both sides): on receiving a message that starts
// with a number n, reply with the line for n + 1, which is the number, a space, and
// "Fizz", "Buzz", "FizzBuzz", or (n % 4) + 2 spaces followed by "(:".
//   1 → "2     (:"   2 → "3 Fizz"   4 → "5 Buzz"   14 → "15 FizzBuzz"

/** The word part of the line for `n`, as the C++ example's fizzBuzz(int). */
export function fizzBuzzText(n: number): string {
  let result = "";
  if (n % 3 === 0) result += "Fizz";
  if (n % 5 === 0) result += "Buzz";
  // C++ builds std::string((n % 4) + 2, ' '); for negative n that count can go below 0,
  // which throws there, so it is clamped here.
  if (n % 3 !== 0 && n % 5 !== 0) result += " ".repeat(Math.max(0, (n % 4) + 2)) + "(:";
  return result;
}

/** The whole line for `n`: std::to_string(n) + " " + fizzBuzz(n). */
export function fizzBuzzLine(n: number): string {
  const text = fizzBuzzText(n);
  return text === "" ? String(n) : n + " " + text;
}

/**
 * The number a message starts with, read as std::stoi does: leading whitespace, an
 * optional sign, digits, then anything. Null when there is no number or it is outside
 * the 32-bit int range (where std::stoi throws).
 */
export function leadingInteger(text: string): number | null {
  const match = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  return value >= -2147483648 && value <= 2147483647 ? value : null;
}

/** The reply to a received message, or null when it does not start with a number (the C++ example would throw). */
export function fizzBuzzReply(text: string): string | null {
  const n = leadingInteger(text);
  return n === null || n === 2147483647 ? null : fizzBuzzLine(n + 1);
}
