// The one polling wait of the test suite: bounded, and named so a timeout says what never
// happened. Tests wait on outcomes a user would see, never on time alone.

export interface UntilOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** What is awaited, for the timeout's message (a function is read only on failure). */
  what?: string | (() => string);
  /** Fail at once when this holds (a process that exited, say). */
  abort?: () => boolean;
}

/** Polls `predicate` every 5 ms until it holds; rejects after `timeoutMs` or when `abort` holds. */
export async function until(predicate: () => boolean, options: UntilOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if ((options.abort && options.abort()) || Date.now() > deadline) {
      const what = typeof options.what === "function" ? options.what() : (options.what ?? "the condition");
      throw new Error("timed out after " + timeoutMs + " ms waiting until " + what);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
