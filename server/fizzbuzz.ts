// FizzBuzz for the desktop side (lwstcp-server --mode fizzbuzz, lwstcp-client, the package's
// exports). The lines and the reply rule live once, in firmware/apps/fizzbuzz.ts, which the
// device app builds too.

export { fizzBuzzLine, fizzBuzzNumber, fizzBuzzReply, fizzBuzzText } from "../firmware/apps/fizzbuzz.js";
