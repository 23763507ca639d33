// require() and Modules with Espruino's search order (ESPRUINO.md §4 "require(missing)"):
// cached module (Modules.addCached) → built-in native module → Storage file → error.
import vm from "node:vm";
import type { DeviceCore } from "./core.js";
import { ESP32_BUILTIN_MODULES } from "./espruino-globals.js";
import type { FlashStorage } from "./storage.js";

export interface ModuleSystem {
  require(name: string): unknown;
  Modules: object;
  /** Exports of every loaded module (memory accounting roots). */
  loaded(): unknown[];
}

/**
 * A cached module given as a function runs its body with `exports` and `module` in scope. V8 cannot
 * add locals to an existing closure, so the function's source is evaluated again inside a wrapper that
 * declares them. Top-level names of the bundle stay visible (they are globals of the context); a
 * function created inside another function would lose that function's locals — Rollup bundles call
 * addCached at top level.
 */
function runModuleBody(core: DeviceCore, body: Function | string, filename: string): unknown {
  const module = new core.intrinsics.Object() as { exports: unknown };
  module.exports = new core.intrinsics.Object();
  const source = typeof body === "string" ? body : "(" + core.intrinsics.functionSource(body) + ").call(this)";
  const wrapper = vm.runInContext("(function (exports, module) {\n" + source + "\n})", core.context, { filename }) as Function;
  Reflect.apply(wrapper, module.exports, [module.exports, module]);
  return module.exports;
}

export function createModuleSystem(core: DeviceCore, storage: FlashStorage, builtins: Record<string, () => object>): ModuleSystem {
  const cachedSources = new Map<string, Function | string>();
  const instances = new Map<string, unknown>();
  const Modules = new core.intrinsics.Object() as Record<string, unknown>;

  function require(nameArg: unknown): unknown {
    const name = String(nameArg);
    if (instances.has(name)) return instances.get(name);
    let exported: unknown;
    const cached = cachedSources.get(name);
    if (cached !== undefined) {
      exported = runModuleBody(core, cached, `Modules:${name}`);
    } else if (Object.hasOwn(builtins, name)) {
      exported = builtins[name]();
    } else if (ESP32_BUILTIN_MODULES.includes(name)) {
      throw new core.intrinsics.Error(`Module "${name}" is built into ESP32 Espruino but not simulated by host-sim`);
    } else {
      const text = storage.read(name);
      if (text === undefined) throw new core.intrinsics.Error(`Module "${name}" not found`);
      storage.executedSources.push(text); // runs from flash: its functions cost no RAM for their code
      exported = runModuleBody(core, text, `Storage:${name}`);
    }
    instances.set(name, exported);
    return exported;
  }

  Object.assign(Modules, {
    addCached(name: unknown, body: unknown) {
      if (typeof body !== "function" && typeof body !== "string") throw new core.intrinsics.TypeError("Module body must be a function or string");
      cachedSources.set(String(name), body as Function | string);
      instances.delete(String(name));
    },
    getCached() {
      const out = new core.intrinsics.Object() as Record<string, unknown>;
      for (const [name, value] of instances) out[name] = value;
      return out;
    },
    removeCached(name: unknown) {
      cachedSources.delete(String(name));
      instances.delete(String(name));
    },
    removeAllCached() {
      cachedSources.clear();
      instances.clear();
    },
  });

  return { require, Modules, loaded: () => [...instances.values()] };
}
