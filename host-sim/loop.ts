// Espruino's single-threaded event loop as seen from JavaScript (ESPRUINO.md §2.4, §4):
// numbered timers, an event queue that runs after the current code, "idle passes" in which each
// socket moves at most one chunk, and uncaught errors that are printed while the loop goes on.

/** A callback that ran on the device and threw. */
export interface UncaughtRecord {
  /** What Espruino prints, e.g. "Uncaught Error: boom". */
  printed: string;
  /** The thrown value (a context-realm object). */
  value: unknown;
}

interface TimerEntry {
  handle: NodeJS.Timeout;
  interval: boolean;
  callback: Function;
  args: unknown[];
  ms: number;
}

/** Runs once per idle pass; returns true while it still has work for later passes. */
export type PassHook = () => boolean;

export interface LoopHost {
  print(line: string): void;
  /** Lets `process.on('uncaughtException')` take the error; returns true if it did. */
  deliverUncaught(value: unknown): boolean;
  /** Called after each piece of device work (memory accounting). */
  afterWork(): void;
  describeError(value: unknown): string;
}

export class EventLoop {
  readonly uncaught: UncaughtRecord[] = [];
  private nextTimerId = 1;
  private readonly timers = new Map<number, TimerEntry>();
  private queue: Array<() => void> = [];
  private readonly passHooks = new Set<PassHook>();
  private passScheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly host: LoopHost) {}

  get isStopped(): boolean {
    return this.stopped;
  }
  get timerCount(): number {
    return this.timers.size;
  }
  timerCallbacks(): Array<{ callback: Function; args: unknown[] }> {
    return [...this.timers.values()];
  }

  /** Calls device code; an exception is handled as Espruino handles an uncaught one. */
  invoke(fn: Function, thisArg: unknown, args: readonly unknown[]): void {
    if (this.stopped) return;
    try {
      Reflect.apply(fn, thisArg, args);
    } catch (error) {
      this.reportUncaught(error);
    }
  }

  reportUncaught(error: unknown): void {
    if (this.stopped) return;
    if (this.host.deliverUncaught(error)) return;
    const printed = "Uncaught " + this.host.describeError(error);
    this.uncaught.push({ printed, value: error });
    this.host.print(printed);
  }

  /** Queues work to run after the current code, as Espruino's event queue does. */
  enqueue(job: () => void): void {
    if (this.stopped) return;
    this.queue.push(job);
    this.requestPass();
  }

  addPassHook(hook: PassHook): void {
    this.passHooks.add(hook);
    this.requestPass();
  }
  removePassHook(hook: PassHook): void {
    this.passHooks.delete(hook);
  }

  requestPass(): void {
    if (this.stopped || this.passScheduled) return;
    this.passScheduled = setImmediate(() => this.runPass());
  }

  private runPass(): void {
    this.passScheduled = undefined;
    if (this.stopped) return;
    const jobs = this.queue;
    this.queue = [];
    for (const job of jobs) {
      if (!this.stopped) job();
    }
    let more = this.queue.length > 0;
    for (const hook of [...this.passHooks]) {
      if (!this.stopped && hook()) more = true;
    }
    this.host.afterWork();
    if (more) this.requestPass();
  }

  setTimer(callback: Function, ms: unknown, args: unknown[], interval: boolean): number {
    const id = this.nextTimerId++;
    const delay = Math.max(0, Number(ms) || 0);
    const fire = () => {
      const entry = this.timers.get(id);
      if (!entry) return;
      if (!entry.interval) this.timers.delete(id);
      this.invoke(entry.callback, undefined, entry.args);
      this.host.afterWork();
    };
    const handle = interval ? setInterval(fire, Math.max(1, delay)) : setTimeout(fire, delay);
    this.timers.set(id, { handle, interval, callback, args, ms: delay });
    return id;
  }

  /** Returns false when no timer has this id (Espruino ignores unknown ids). */
  clearTimer(id: unknown): boolean {
    const entry = this.timers.get(Number(id));
    if (!entry) return false;
    clearTimeout(entry.handle);
    this.timers.delete(Number(id));
    return true;
  }

  clearAllTimers(): void {
    for (const entry of this.timers.values()) clearTimeout(entry.handle);
    this.timers.clear();
  }

  changeInterval(id: unknown, ms: unknown): void {
    const entry = this.timers.get(Number(id));
    if (!entry || !entry.interval) return;
    clearInterval(entry.handle);
    const key = Number(id);
    const delay = Math.max(1, Number(ms) || 0);
    entry.ms = delay;
    entry.handle = setInterval(() => {
      if (!this.timers.has(key)) return;
      this.invoke(entry.callback, undefined, entry.args);
      this.host.afterWork();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    this.clearAllTimers();
    if (this.passScheduled) clearImmediate(this.passScheduled);
    this.passScheduled = undefined;
    this.queue = [];
    this.passHooks.clear();
  }
}
