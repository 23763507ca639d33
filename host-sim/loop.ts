// Espruino's single-threaded event loop as seen from JavaScript (ESPRUINO.md §2.4, §4):
// numbered timers, an event queue that runs after the current code, "idle passes" in which each
// socket moves at most one chunk, and uncaught errors that are printed while the loop goes on.
// With a device speed (device-speed.ts) work is charged device CPU time, and the loop runs
// nothing else (no pass, no timer) until that time has passed, as a busy interpreter would.
import type { DeviceSpeed } from "./device-speed.js";

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
  fire: () => void;
  /** Came due while the device was busy: it runs first when the device is free. */
  late: boolean;
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
  private passScheduled: { cancel(): void; delayed: boolean } | undefined;
  private inPass = false;
  private passWanted = false;
  private stopped = false;
  /** Device CPU time charged and not yet spent, and when the device is next free (Date.now()). */
  private owedMs = 0;
  private busyUntil = 0;
  /** Timers that came due while the device was busy, in the order they did. */
  private lateTimers: Array<{ id: number; entry: TimerEntry }> = [];

  constructor(
    private readonly host: LoopHost,
    private readonly speed?: DeviceSpeed,
  ) {}

  /** Device time for `events` passes through the library's path and `blocks` cipher blocks. */
  charge(events: number, blocks: number): void {
    if (this.speed) this.owedMs += events * this.speed.msPerEvent + blocks * this.speed.msPerBlock;
  }

  /** Whether work costs device time here (a device speed was given). */
  get chargesTime(): boolean {
    return this.speed !== undefined;
  }

  /** Work was charged and its time is not spent yet. */
  busy(): boolean {
    return this.owedMs > 0 || this.busyUntil > Date.now();
  }

  /** Milliseconds until the device has spent the CPU time charged so far (0: free). */
  busyForMs(): number {
    return Math.max(0, this.busyUntil - Date.now());
  }

  /** Turns the charges of the work just done into time the device is busy, and holds the next pass until then. */
  private settle(): void {
    if (this.owedMs <= 0) return;
    this.busyUntil = Math.max(this.busyUntil, Date.now()) + this.owedMs;
    this.owedMs = 0;
    if (this.passScheduled && !this.passScheduled.delayed) {
      this.passScheduled.cancel();
      this.passScheduled = undefined;
      this.requestPass();
    }
  }

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
    if (this.inPass) {
      this.passWanted = true;
      return;
    }
    const wait = this.busyForMs();
    if (wait > 0) {
      const handle = setTimeout(() => this.runPass(), wait);
      this.passScheduled = { cancel: () => clearTimeout(handle), delayed: true };
    } else {
      const handle = setImmediate(() => this.runPass());
      this.passScheduled = { cancel: () => clearImmediate(handle), delayed: false };
    }
  }

  private runPass(): void {
    this.passScheduled = undefined;
    if (this.stopped) return;
    // Overdue timers run as soon as the device is free, before what arrived meanwhile.
    while (this.lateTimers.length > 0) {
      const { id, entry } = this.lateTimers.shift() as { id: number; entry: TimerEntry };
      entry.late = false;
      this.runTimer(id, entry);
      if (this.busy()) {
        this.requestPass();
        return;
      }
    }
    this.inPass = true;
    this.passWanted = false;
    const jobs = this.queue;
    this.queue = [];
    for (const job of jobs) {
      if (!this.stopped) job();
    }
    let more = this.queue.length > 0;
    for (const hook of [...this.passHooks]) {
      if (!this.stopped && hook()) more = true;
    }
    this.inPass = false;
    this.host.afterWork();
    this.settle();
    if (more || this.passWanted) this.requestPass();
  }

  setTimer(callback: Function, ms: unknown, args: unknown[], interval: boolean): number {
    const id = this.nextTimerId++;
    const delay = Math.max(0, Number(ms) || 0);
    const fire = () => {
      const entry = this.timers.get(id);
      if (!entry || entry.late) return;
      if (this.busy()) {
        // The device is still working: the timer runs once, when it is free.
        entry.late = true;
        this.lateTimers.push({ id, entry });
        this.requestPass();
        return;
      }
      this.runTimer(id, entry);
    };
    const handle = interval ? setInterval(fire, Math.max(1, delay)) : setTimeout(fire, delay);
    this.timers.set(id, { handle, interval, callback, args, ms: delay, fire, late: false });
    return id;
  }

  private runTimer(id: number, entry: TimerEntry): void {
    if (!entry.interval) this.timers.delete(id);
    this.invoke(entry.callback, undefined, entry.args);
    this.host.afterWork();
    this.settle();
  }

  /** Returns false when no timer has this id (Espruino ignores unknown ids). */
  clearTimer(id: unknown): boolean {
    const entry = this.timers.get(Number(id));
    if (!entry) return false;
    this.cancel(entry);
    this.timers.delete(Number(id));
    return true;
  }

  clearAllTimers(): void {
    for (const entry of this.timers.values()) this.cancel(entry);
    this.timers.clear();
  }

  private cancel(entry: TimerEntry): void {
    clearTimeout(entry.handle);
    if (entry.late) this.lateTimers = this.lateTimers.filter((late) => late.entry !== entry);
  }

  changeInterval(id: unknown, ms: unknown): void {
    const entry = this.timers.get(Number(id));
    if (!entry || !entry.interval) return;
    clearInterval(entry.handle);
    const delay = Math.max(1, Number(ms) || 0);
    entry.ms = delay;
    entry.handle = setInterval(entry.fire, delay);
  }

  stop(): void {
    this.stopped = true;
    this.clearAllTimers();
    this.passScheduled?.cancel();
    this.passScheduled = undefined;
    this.queue = [];
    this.passHooks.clear();
  }
}
