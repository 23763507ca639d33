// A device's console: the lines it printed, and waits for a line to appear. A wait ends with
// the line, with a clear error at its timeout (the whole console attached), or at once when
// the device stops without printing it.

export class DeviceConsole {
  readonly lines: string[] = [];
  private readonly watchers = new Set<(line: string) => void>();

  /** `echo` sees every line as it is printed (the caller's console, prefixed or not). */
  constructor(
    private readonly name: string,
    private readonly echo?: (line: string) => void,
  ) {}

  readonly print = (text: string): void => {
    for (const line of text.split("\n")) {
      this.lines.push(line);
      this.echo?.(line);
      for (const watcher of [...this.watchers]) watcher(line);
    }
  };

  /** The device stopped: every wait that has not matched fails now. */
  stopped(): void {
    for (const watcher of [...this.watchers]) watcher("");
  }

  /** The first line matching `pattern`, already printed or printed within timeoutMs. */
  waitFor(pattern: RegExp | string, timeoutMs: number, isStopped: () => boolean, why: () => string): Promise<string> {
    const matches = (line: string) => (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line));
    const already = this.lines.find(matches);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(watch);
        reject(new Error(`${this.name}: no console line matching ${pattern} within ${timeoutMs} ms; console:\n${this.lines.join("\n")}`));
      }, timeoutMs);
      const watch = (line: string) => {
        if (isStopped() && !matches(line)) {
          clearTimeout(timer);
          this.watchers.delete(watch);
          reject(new Error(`${this.name} stopped before printing ${pattern}${why()}`));
        } else if (matches(line)) {
          clearTimeout(timer);
          this.watchers.delete(watch);
          resolve(line);
        }
      };
      this.watchers.add(watch);
    });
  }
}
