// An estimate of Espruino's JsVar usage for the objects a device's code can reach (ESPRUINO.md §8:
// a fixed pool of 14-byte JsVars, at most 16383 on ESP32).
//
// What it counts: everything reachable through properties from the context's global object, from
// timer callbacks and their arguments, from open sockets/servers (listeners are own "#on<ev>"
// properties) and their unsent data, priced with Espruino's costs:
//   - one JsVar per object, array, function, number that is not an int32, Date;
//   - one JsVar per property or array element (its name), plus the value's own cost;
//     int32, boolean, null and undefined values sit inside the name and cost nothing more;
//   - strings: 1 JsVar up to 4 chars, else a flat string of ⌈len/14⌉+1 JsVars;
//     property names longer than 4 chars pay the same string cost;
//   - typed arrays: 1 for the view plus their ArrayBuffer once (1 + a flat string of its bytes);
//   - functions: the function, its code's name and its code (the source text, or one var when
//     that text was run from a Storage file: code executed from flash stays in flash on the
//     device), one name per parameter, and their enclosing scopes' chain (scopeChainJsVars);
//   - the variables a device function's closures hold, read through the V8 inspector (JS cannot
//     see a closure's scope): each scope is priced as an object of its variables, once however
//     many functions share it (scopes with the same variable names are priced once, their values
//     always, so two connections' same-shaped closures cost their buffers but one set of names). A connection's buffers are typically reachable only this way (a
//     socket listener closes over the connection), so without it a 64 KB buffer held per
//     connection would go unseen. V8 keeps only the variables some inner function uses, where
//     Espruino keeps the whole scope, so this still errs low. Reading a scope costs inspector
//     round trips, so the periodic budget check reads a function's scopes when it first sees it
//     and then refreshes a few functions per walk (a variable reassigned since is seen at the
//     next refresh): a new connection's closures are read at once, the library's hundred
//     methods rarely. An explicit query (process.memory(), E.getSizeOf, device.memory()) reads
//     every scope afresh.
// What it cannot see: promise internals, pending event-queue jobs, and the interpreter's own
// fixed overhead (modelled by BASELINE_JSVARS). It is an estimate; exceeding the budget fails
// the device as the board would.
import { Session } from "node:inspector";
import type { DeviceCore } from "./core.js";
import type { MemoryDisguise } from "./library-events.js";

const BYTES_PER_JSVAR = 14;
const SHORT_STRING_CHARS = 4;
/** Vars the interpreter holds before user code runs (root, scopes, built-in module objects). */
export const BASELINE_JSVARS = 80;

export function stringJsVars(length: number): number {
  return length <= SHORT_STRING_CHARS ? 1 : Math.ceil(length / BYTES_PER_JSVAR) + 1;
}

function isInlineValue(value: unknown): boolean {
  return value === undefined || value === null || typeof value === "boolean" || (typeof value === "number" && (value | 0) === value);
}

/** The closure scopes of functions, through an inspector session on this thread (its calls answer synchronously). */
class ClosureScopes {
  private readonly session = new Session();
  /** A host object the inspector hands values through: `holder.value`. */
  private readonly holder: { value: unknown } = { value: undefined };
  private readonly holderId: string;
  /** Functions whose chain has no scope but the global one (top-level code): nothing to read again. */
  private readonly noClosure = new WeakSet<Function>();

  constructor() {
    this.session.connect();
    const g = globalThis as Record<string, unknown>;
    const key = "__hostSimScopeHolder";
    g[key] = this.holder;
    try {
      this.holderId = this.post<{ result: { objectId: string } }>("Runtime.evaluate", {
        expression: "globalThis." + key,
        objectGroup: "host-sim-holder",
      }).result.objectId;
    } finally {
      delete g[key];
    }
  }

  private post<T>(method: string, params: object): T {
    let answer: T | undefined;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (error, result) => {
      failure = error;
      answer = result as T;
      answered = true;
    });
    if (!answered) throw new Error("host-sim: the inspector answered " + method + " asynchronously");
    if (failure) throw failure;
    return answer as T;
  }

  /** The non-global scopes of `fn`, each as a plain object of its variables (a copy made by V8). */
  scopesOf(fn: Function): { description: string; variables: object }[] {
    if (this.noClosure.has(fn)) return [];
    const holder = this.holder;
    holder.value = fn;
    const group = "host-sim-scopes";
    try {
      const fnId = this.post<{ result: { objectId: string } }>("Runtime.callFunctionOn", {
        objectId: this.holderId,
        functionDeclaration: "function () { return this.value; }",
        objectGroup: group,
      }).result.objectId;
      const internal = this.post<{ internalProperties?: { name: string; value?: { objectId?: string } }[] }>("Runtime.getProperties", {
        objectId: fnId,
        ownProperties: true,
        objectGroup: group,
      }).internalProperties;
      const list = internal?.find((p) => p.name === "[[Scopes]]")?.value?.objectId;
      if (!list) return [];
      const entries = this.post<{ result: { name: string; value?: { objectId?: string; description?: string } }[] }>("Runtime.getProperties", {
        objectId: list,
        ownProperties: true,
        objectGroup: group,
      }).result;
      const wanted = entries.filter((e) => /^\d+$/.test(e.name) && e.value?.objectId && e.value.description !== "Global");
      if (wanted.length === 0) {
        this.noClosure.add(fn);
        return [];
      }
      // One round trip hands over every scope object of the chain.
      holder.value = undefined;
      this.post("Runtime.callFunctionOn", {
        objectId: this.holderId,
        functionDeclaration: "function () { var out = []; for (var i = 0; i < arguments.length; i++) out.push(arguments[i].object); this.value = out; }",
        arguments: wanted.map((e) => ({ objectId: e.value?.objectId })),
        objectGroup: group,
      });
      const objects = Array.isArray(holder.value) ? (holder.value as unknown[]) : [];
      const scopes: { description: string; variables: object }[] = [];
      objects.forEach((variables, i) => {
        if (variables && typeof variables === "object") scopes.push({ description: wanted[i].value?.description ?? "", variables });
      });
      return scopes;
    } finally {
      holder.value = undefined;
      this.post("Runtime.releaseObjectGroup", { objectGroup: group });
    }
  }
}

let sharedScopes: ClosureScopes | undefined;

/** Scopes read again per walk, and how many walks old a reading must be before it is. */
const SCOPE_REFRESHES_PER_WALK = 2;
const SCOPE_REFRESH_AFTER_WALKS = 16;

type ScopeReading = { scopes: { key: string; variables: object }[]; walk: number };

export class MemoryEstimator {
  /** For built-in objects: the property names present at boot, which cost nothing (they are in flash). */
  private readonly builtinKeys = new Map<object, Set<string>>();
  private readonly functionCost = new WeakMap<Function, number>();
  private readonly scopes = (sharedScopes ??= new ClosureScopes());
  private readonly scopeReadings = new WeakMap<Function, ScopeReading>();
  private walks = 0;
  /** Function.prototype of the device's realm: only the device's own functions have closures worth reading. */
  private readonly deviceFunctionPrototype: object;

  constructor(
    private readonly core: DeviceCore,
    private readonly flashSources: () => readonly string[],
    private readonly extraRoots: () => unknown[],
    /** The simulator's own instrumentation (library-events.ts), which a board does not have. */
    private readonly disguise?: MemoryDisguise,
  ) {
    this.deviceFunctionPrototype = Object.getPrototypeOf(core.intrinsics.Object);
  }

  /** Records every object reachable at boot as built-in; call once after the globals are installed. */
  snapshotBuiltins(): void {
    const pending: object[] = [this.core.intrinsics.global];
    while (pending.length > 0) {
      const obj = pending.pop()!;
      if (this.builtinKeys.has(obj)) continue;
      const names = Object.getOwnPropertyNames(obj);
      this.builtinKeys.set(obj, new Set(names));
      for (const name of names) {
        const d = Object.getOwnPropertyDescriptor(obj, name);
        for (const v of [d?.value, d?.get, d?.set]) if (isObjectLike(v)) pending.push(v as object);
      }
      const proto = Object.getPrototypeOf(obj);
      if (proto) pending.push(proto);
    }
  }

  /**
   * JsVars used by everything reachable from the device's roots, plus the baseline. `fresh`
   * (the default) reads every closure scope again; the periodic budget check passes false.
   */
  usage(limit = Infinity, fresh = true): number {
    const roots: unknown[] = [this.core.intrinsics.global, ...this.extraRoots()];
    let hidden = 0;
    for (const timer of this.core.loop.timerCallbacks()) roots.push(timer.callback, timer.args);
    for (const resource of this.core.resources) {
      roots.push(resource.jsObject);
      hidden += resource.hiddenJsVars();
    }
    hidden += this.core.loop.timerCount * 3; // each timer is an object {time, interval, callback} in the timer array
    return BASELINE_JSVARS + hidden + this.walk(roots, limit, false, fresh);
  }

  /** E.getSizeOf(value): the JsVars of one value and everything it holds. */
  sizeOf(value: unknown): number {
    return this.walk([value], Infinity, true, true);
  }

  private walk(roots: unknown[], limit: number, countBuiltins: boolean, fresh: boolean): number {
    const seen = new Set<object>();
    const pending: unknown[] = [...roots];
    /** Scopes already priced, by their variables' names: many functions share one scope. */
    const scopesSeen = new Set<string>();
    const argumentStrings = new Set<string>();
    const walk = ++this.walks;
    let refreshes = fresh ? Infinity : SCOPE_REFRESHES_PER_WALK;
    const refreshAfter = fresh ? 1 : SCOPE_REFRESH_AFTER_WALKS;
    let total = 0;
    const disguise = this.disguise;
    while (pending.length > 0 && total <= limit) {
      let value = pending.pop();
      if (disguise && isObjectLike(value)) {
        if (disguise.hidden.has(value as object)) continue;
        if (disguise.standIns.has(value as object)) value = disguise.standIns.get(value as object);
      }
      if (typeof value === "string") {
        total += stringJsVars(value.length);
        continue;
      }
      if (typeof value === "number") {
        total += (value | 0) === value ? 0 : 1;
        continue;
      }
      if (!isObjectLike(value)) continue;
      const obj = value as object;
      if (seen.has(obj)) continue;
      seen.add(obj);
      const builtin = countBuiltins ? undefined : this.builtinKeys.get(obj);
      if (!builtin) total += this.ownCost(obj, seen);
      if (typeof obj === "function" && !this.builtinKeys.has(obj) && Object.getPrototypeOf(obj) === this.deviceFunctionPrototype) {
        let reading = this.scopeReadings.get(obj as Function);
        if (!reading || (refreshes > 0 && walk - reading.walk >= refreshAfter)) {
          if (reading) refreshes--;
          const scopes = this.scopes
            .scopesOf(obj as Function)
            .map((scope) => ({ key: scope.description + "|" + Object.getOwnPropertyNames(scope.variables).join(","), variables: scope.variables }));
          reading = { scopes, walk };
          this.scopeReadings.set(obj as Function, reading);
        }
        total += scopeChainJsVars(reading.scopes.length);
        for (const scope of reading.scopes) {
          if (!scopesSeen.has(scope.key)) {
            scopesSeen.add(scope.key);
            pending.push(scope.variables);
          } else {
            const variables = scope.variables as Record<string, unknown>;
            for (const name of Object.getOwnPropertyNames(variables)) if (isObjectLike(variables[name])) pending.push(variables[name]);
          }
        }
      }
      const isArguments = Object.prototype.toString.call(obj) === "[object Arguments]";
      for (const name of Object.getOwnPropertyNames(obj)) {
        if (builtin?.has(name)) continue;
        if (ArrayBuffer.isView(obj) && /^\d+$/.test(name)) continue; // bytes priced with the buffer
        if (name === "length" && (Array.isArray(obj) || typeof obj === "function")) continue;
        if (typeof obj === "function" && (name === "prototype" || name === "name")) {
          const d = Object.getOwnPropertyDescriptor(obj, name);
          // An untouched prototype object is created lazily by Espruino; count only what was added to it.
          if (name === "name" || (d?.value && Object.getOwnPropertyNames(d.value).length <= 1)) continue;
        }
        const d = Object.getOwnPropertyDescriptor(obj, name);
        if (disguise && d?.get && disguise.hidden.has(d.get)) continue;
        // V8 gives sloppy functions own "arguments" and "caller" (the calls under way, whose
        // values Espruino holds in their scopes); an Espruino function has no such properties.
        const v8Only = typeof obj === "function" && (name === "arguments" || name === "caller");
        if (!v8Only) total += /^\d+$/.test(name) ? 1 : stringJsVars(name.length);
        if (!d) continue;
        if ("value" in d) {
          // The arguments objects of the calls under way (a callback inside the library's
          // delivery, say) hold the same string one after another; Espruino shares it rather
          // than copying, and V8 gives a string no identity, so in arguments a text is priced once.
          if (isArguments && typeof d.value === "string") {
            if (argumentStrings.has(d.value)) continue;
            argumentStrings.add(d.value);
          }
          if (!isInlineValue(d.value)) pending.push(d.value);
        } else {
          if (d.get) pending.push(d.get);
          if (d.set) pending.push(d.set);
        }
      }
    }
    return total;
  }

  private ownCost(obj: object, seen: Set<object>): number {
    if (ArrayBuffer.isView(obj)) {
      const buffer = (obj as Uint8Array).buffer;
      if (seen.has(buffer)) return 1;
      seen.add(buffer);
      return 1 + 1 + stringJsVars(Math.max(5, buffer.byteLength));
    }
    if (isArrayBuffer(obj)) return 1 + stringJsVars(Math.max(5, (obj as ArrayBuffer).byteLength));
    if (typeof obj === "function") return this.costOfFunction(obj as Function);
    return 1;
  }

  private costOfFunction(fn: Function): number {
    const cached = this.functionCost.get(fn);
    if (cached !== undefined) return cached;
    let source: string;
    try {
      source = this.core.intrinsics.functionSource(fn);
    } catch {
      source = "";
    }
    const native = source.endsWith("{ [native code] }");
    const inFlash = !native && this.flashSources().some((text) => text.includes(source));
    // The function, its code's name and the code (one var pointing into flash, or the text),
    // one name per parameter.
    const cost = native ? 2 : 2 + (inFlash ? 1 : stringJsVars(source.length)) + fn.length;
    this.functionCost.set(fn, cost);
    return cost;
  }
}

/**
 * What a function holds to reach its enclosing scopes: nothing at top level, a name pointing at
 * the one scope, or a name, an array and one entry per scope (measured on the interpreter with
 * trace(): jsparse.c keeps the whole chain with each function).
 */
function scopeChainJsVars(scopes: number): number {
  return scopes === 0 ? 0 : scopes === 1 ? 1 : 2 + scopes;
}

function isObjectLike(value: unknown): boolean {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function isArrayBuffer(value: object): boolean {
  return Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

/** The most a slow heap walk pushes the next memory check back. */
const MAX_MEMORY_BACKOFF_MS = 1000;

/**
 * A device's out-of-memory check: after work, the estimate is compared with the budget, at
 * most every `intervalMs` (a throttled check is still made once the interval has passed, even
 * if the device goes idle), backing off for slow walks so 100 devices stay fast. Keeps the peak.
 */
export class MemoryWatch {
  peak = 0;
  private last = 0;
  private deferred: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly estimator: MemoryEstimator,
    private readonly budget: number,
    private readonly intervalMs: number,
    private readonly overBudget: (usage: number) => void,
  ) {}

  check(force: boolean): void {
    if (this.stopped) return;
    const now = Date.now();
    if (!force && now - this.last < this.intervalMs) {
      this.deferred ??= setTimeout(
        () => {
          this.deferred = undefined;
          this.check(false);
        },
        this.intervalMs - (now - this.last),
      );
      return;
    }
    const usage = this.estimator.usage(this.budget + 1, false);
    const walkMs = Date.now() - now;
    this.last = Date.now() + Math.min(MAX_MEMORY_BACKOFF_MS, Math.max(0, walkMs * 10 - this.intervalMs));
    if (usage > this.peak) this.peak = usage;
    if (usage > this.budget) this.overBudget(usage);
  }

  stop(): void {
    this.stopped = true;
    if (this.deferred) clearTimeout(this.deferred);
  }
}
