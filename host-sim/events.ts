// Espruino's events on every object (ESPRUINO.md §4 "Events on every object"):
// listeners are own properties "#on<ev>" (a bare function, or an array when there are several),
// emit() is asynchronous, passes at most 4 arguments, and a throwing listener does not stop the next.
import type { DeviceCore } from "./core.js";

export function listenerKey(event: string): string {
  return "#on" + event;
}

/** The listeners for `event` right now, captured as Espruino captures them at emit time. */
export function listenersOf(target: object, event: string): Function[] {
  const stored = (target as Record<string, unknown>)[listenerKey(event)];
  if (typeof stored === "function") return [stored];
  if (Array.isArray(stored)) return stored.filter((l): l is Function => typeof l === "function");
  return [];
}

/** Runs the listeners now; device code inside an idle pass uses this for socket events. */
export function fireEvent(core: DeviceCore, target: object, event: string, args: readonly unknown[]): void {
  for (const listener of listenersOf(target, event)) core.loop.invoke(listener, target, args);
}

function addListener(core: DeviceCore, target: Record<string, unknown>, event: string, fn: unknown, prepend: boolean): void {
  const key = listenerKey(String(event));
  const stored = target[key];
  if (stored === undefined) {
    target[key] = fn;
  } else if (typeof stored === "function") {
    const list = new core.intrinsics.Array();
    list.push(...(prepend ? [fn, stored] : [stored, fn]));
    target[key] = list;
  } else if (Array.isArray(stored)) {
    if (prepend) stored.unshift(fn);
    else stored.push(fn);
  }
}

/** Installs on/emit/… on the context's Object.prototype so plain objects, arrays and functions have them. */
export function installEvents(core: DeviceCore): void {
  const proto = core.intrinsics.Object.prototype;
  const methods: Record<string, Function> = {
    on(this: Record<string, unknown>, event: string, fn: unknown) {
      addListener(core, this, event, fn, false);
    },
    addListener(this: Record<string, unknown>, event: string, fn: unknown) {
      addListener(core, this, event, fn, false);
    },
    prependListener(this: Record<string, unknown>, event: string, fn: unknown) {
      addListener(core, this, event, fn, true);
    },
    emit(this: object, event: string, ...args: unknown[]) {
      if (args.length > 4) throw new core.intrinsics.TypeError("Too many arguments (>4)");
      const listeners = listenersOf(this, String(event));
      if (listeners.length === 0) return;
      core.loop.enqueue(() => {
        for (const l of listeners) core.loop.invoke(l, this, args);
      });
    },
    removeListener(this: Record<string, unknown>, event: string, fn: unknown) {
      const key = listenerKey(String(event));
      const stored = this[key];
      if (stored === fn) delete this[key];
      else if (Array.isArray(stored)) {
        const at = stored.indexOf(fn);
        if (at >= 0) stored.splice(at, 1);
        if (stored.length === 0) delete this[key];
      }
    },
    removeAllListeners(this: Record<string, unknown>, event?: string) {
      if (event !== undefined) {
        delete this[listenerKey(String(event))];
        return;
      }
      for (const key of Object.keys(this)) if (key.startsWith("#on")) delete this[key];
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}
