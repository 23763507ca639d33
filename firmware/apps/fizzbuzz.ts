// FizzBuzz as the C++ library's ESP32 ↔ desktop example plays it, so our apps pair with
// its peers: each side answers a message starting with n with the line for n + 1, which is
// the number, a space, and "Fizz", "Buzz", "FizzBuzz", or (n % 4 + 2) spaces and "(:".
// Shared by the device app and the desktop CLIs; ES5-safe for the Espruino bundle.

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
