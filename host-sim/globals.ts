// Shapes a fresh node:vm context so its built-ins look like Espruino 2v29's (ESPRUINO.md §2).
// The shaping code runs *inside* the context (as source text), so every object it makes belongs to the
// context's realm: `instanceof Array` and friends behave for the firmware exactly as for its own objects.
import vm from "node:vm";
import { ESP32_ABSENT_MEMBERS, ESP32_GLOBAL_NAMES } from "./espruino-globals.js";

/** Context-realm constructors the host needs to build values and errors the firmware can inspect. */
export interface ContextIntrinsics {
  Object: ObjectConstructor;
  Array: ArrayConstructor;
  ArrayBuffer: ArrayBufferConstructor;
  Uint8Array: Uint8ArrayConstructor;
  Error: ErrorConstructor;
  TypeError: ErrorConstructor;
  ReferenceError: ErrorConstructor;
  InternalError: ErrorConstructor;
  JSON: JSON;
  /** The context's global object (its built-ins included, unlike the sandbox object). */
  global: Record<string, unknown>;
  /** Members Espruino lacks that V8 will not let go of (non-configurable). */
  undeletable: string[];
  /** Real `Function.prototype.toString`, kept because the firmware-visible one may be hidden. */
  functionSource: (fn: Function) => string;
}

const PRELUDE = `(function (allowedNames, absentMembers) {
  "use strict";
  var g = globalThis;
  var TypedArray = Object.getPrototypeOf(Uint8Array);
  var functionSource = Function.prototype.toString;
  var keep = {
    Object: Object, Array: Array, ArrayBuffer: ArrayBuffer, Uint8Array: Uint8Array,
    Error: Error, TypeError: TypeError, ReferenceError: ReferenceError, JSON: JSON, global: g,
    functionSource: function (fn) { return functionSource.call(fn); },
    undeletable: []
  };
  var lookup = {
    "Object": Object, "Array": Array, "Array.prototype": Array.prototype, "String": String,
    "String.prototype": String.prototype, "Number": Number, "Number.prototype": Number.prototype,
    "Math": Math, "Promise": Promise, "Promise.prototype": Promise.prototype, "ArrayBuffer": ArrayBuffer,
    "ArrayBuffer.prototype": ArrayBuffer.prototype, "TypedArray": TypedArray,
    "TypedArray.prototype": TypedArray.prototype, "Date": Date
  };

  // §2.3: typed-array slice() and filter() return a plain Array.
  var typedSlice = TypedArray.prototype.slice, typedFilter = TypedArray.prototype.filter;
  function toPlainArray(typed) { var out = []; for (var i = 0; i < typed.length; i++) out.push(typed[i]); return out; }
  Object.defineProperty(TypedArray.prototype, "slice", { configurable: true, writable: true,
    value: function slice(a, b) { return toPlainArray(typedSlice.call(this, a, b)); } });
  Object.defineProperty(TypedArray.prototype, "filter", { configurable: true, writable: true,
    value: function filter(f, t) { return toPlainArray(typedFilter.call(this, f, t)); } });
  // BYTES_PER_ELEMENT is absent on Espruino but non-configurable in V8, so it stays (the static check can flag it).

  Object.keys(absentMembers).forEach(function (where) {
    absentMembers[where].forEach(function (name) {
      // Non-configurable ones (Number.MAX_SAFE_INTEGER, EPSILON…) cannot go; keep.undeletable lists them.
      if (!Reflect.deleteProperty(lookup[where], name)) keep.undeletable.push(where + "." + name);
    });
  });

  // §2.1: built-in methods are found by the receiver's type, not through the prototype object, so
  // "Array.prototype.slice" is undefined while "[].slice" works. Each method becomes an accessor that
  // answers undefined when read from the prototype itself; assigning (the usual shim
  // "Array.prototype.slice = [].slice") stores a plain value, as user additions are seen everywhere.
  function hideFromPrototype(proto) {
    Object.getOwnPropertyNames(proto).forEach(function (name) {
      if (name === "constructor") return;
      var d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || typeof d.value !== "function") return;
      var method = d.value;
      Object.defineProperty(proto, name, {
        configurable: true, enumerable: false,
        get: function () { return this === proto ? undefined : method; },
        set: function (v) {
          if (this === proto) Object.defineProperty(proto, name, { value: v, writable: true, configurable: true, enumerable: false });
          else Object.defineProperty(this, name, { value: v, writable: true, configurable: true, enumerable: true });
        }
      });
    });
  }
  hideFromPrototype(Array.prototype);
  hideFromPrototype(String.prototype);
  hideFromPrototype(Number.prototype);
  hideFromPrototype(Function.prototype);

  // §2.2 Errors: e.name is undefined on built-in errors, String(e) still gives "TypeError: m", and
  // TypeError/SyntaxError/ReferenceError/InternalError are not instanceof Error.
  function typedToString(type) {
    return function toString() { return this.message ? type + ": " + this.message : type; };
  }
  [["Error", Error], ["TypeError", TypeError], ["SyntaxError", SyntaxError], ["ReferenceError", ReferenceError]]
    .forEach(function (pair) {
      var proto = pair[1].prototype;
      if (pair[1] !== Error) Object.setPrototypeOf(proto, Object.prototype);
      delete proto.name;
      Object.defineProperty(proto, "toString", { value: typedToString(pair[0]), writable: true, configurable: true });
      Object.defineProperty(proto, "type", { value: pair[0], writable: true, configurable: true });
    });
  function InternalError(message) {
    if (!(this instanceof InternalError)) return new InternalError(message);
    this.message = message === undefined ? "" : String(message);
    this.type = "InternalError";
  }
  Object.defineProperty(InternalError.prototype, "toString", { value: typedToString("InternalError"), writable: true, configurable: true });
  g.InternalError = InternalError;
  keep.InternalError = InternalError;

  // Only the globals Espruino has on ESP32 stay (espruino-globals.ts, ESPRUINO.md §0).
  var allowed = {};
  allowedNames.forEach(function (n) { allowed[n] = true; });
  Object.getOwnPropertyNames(g).forEach(function (n) {
    if (!allowed[n]) { try { delete g[n]; } catch (e) { /* non-configurable: undefined, NaN, Infinity are allowed anyway */ } }
  });
  g.global = g;
  return keep;
})`;

/** Applies Espruino's built-in shape to `context` and returns the context-realm intrinsics the host needs. */
export function shapeBuiltins(context: vm.Context): ContextIntrinsics {
  const shape = vm.runInContext(PRELUDE, context, { filename: "host-sim:prelude" }) as (
    names: readonly string[],
    absent: Record<string, readonly string[]>,
  ) => ContextIntrinsics;
  return shape(ESP32_GLOBAL_NAMES, ESP32_ABSENT_MEMBERS);
}

/** Defines a non-enumerable global, as Espruino's built-in functions are invisible to for..in. */
export function defineGlobal(context: vm.Context, name: string, value: unknown): void {
  Object.defineProperty(context, name, { value, writable: true, configurable: true, enumerable: false });
}
