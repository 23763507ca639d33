// What the lwstcp device library did on a simulated device, counted from the library itself
// rather than from an app's console lines, so the counts are right for any app.
//
// The device's require("lwstcp") hands its module object to instrumentLibrary() once. The
// library calls every application callback by reading `this.on<Name>` (lwstcp.ts `call`), so an
// accessor for each on<Name> on the class prototypes sees every event, whether or not the app set
// a callback: with none set it records and returns; with one set (setOn<Name> assigns through the
// accessor, which then keeps the app's function in an accessor on the instance) it records and
// calls it. connectToServer/disconnect/start/stop are wrapped to know which clients still want a
// connection and which servers listen. Nothing here writes to a socket or changes what a callback
// receives, so wire behaviour is the same as on a board; and the library bundle is unchanged.
//
// The JsVar estimate must not see this machinery: `disguise` tells memory.ts which functions to
// skip (the prototype accessors) and which to count as the app's function they stand in for.

/** Counts of one device's library events; every field only grows. */
export interface LibraryCounts {
  /** Clients on which the app called connectToServer, and servers that started listening. */
  clients: number;
  servers: number;
  /** Handshakes completed, as a client or as a server. */
  handshakes: number;
  /** Failed handshakes by reason ("verify-failed", "peer-closed", …). */
  handshakeFailures: Record<string, number>;
  /** The last detail message a failure of each reason came with (the library passes one for some). */
  failureDetails: Record<string, string>;
  /** connectToServer calls whose TCP connect failed at once (refused, no network, unknown host). */
  connectFailures: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Sessions a client opened again after its first (after a lost session or failed handshake). */
  reconnects: number;
  /** Open sessions that ended, by reason ("disconnect", "local-disconnect", "inactivity-timeout", …). */
  sessionsEnded: Record<string, number>;
  /** onError reports of clients and servers (a session's errors are reported by its server too). */
  errors: number;
  /** The last onError text. */
  lastError: string;
  /** Application callbacks that threw (the library catches and prints them; they are app bugs). */
  callbackErrors: number;
}

export type LibraryEvent =
  | { type: "handshake"; role: "client" | "server" }
  | { type: "handshake-failed"; role: "client" | "server"; reason: string; detail?: string }
  | { type: "connect-failed" }
  | { type: "message-sent"; bytes: number }
  | { type: "message-received"; bytes: number }
  | { type: "session-ended"; reason: string }
  | { type: "error"; text: string }
  | { type: "callback-threw"; callback: string };

/** How the memory estimate looks through the instrumentation. */
export interface MemoryDisguise {
  /** Functions that do not exist on a board (skip them and the property names that hold them). */
  readonly hidden: WeakSet<object>;
  /** Functions that stand for another value on a board (count that value instead). */
  readonly standIns: WeakMap<object, unknown>;
}

export interface LibraryEvents {
  readonly counts: Readonly<LibraryCounts>;
  /** True once the app made a client or server and every one has finished: disconnect() or stop() called, nothing open. */
  settled(): boolean;
  /** Calls `listener` for each event from now on; returns a function that removes it. */
  listen(listener: (event: LibraryEvent) => void): () => void;
}

type Fn = (...args: any[]) => unknown;
type Role = "client" | "server" | "session";

const CALLBACKS: Record<Role, string[]> = {
  client: ["Connected", "Disconnected", "MessageReceived", "HandshakeSuccess", "HandshakeFailed", "Error", "DataSent"],
  server: ["HandshakeStarted", "HandshakeSuccess", "HandshakeFailed", "Error"],
  session: ["MessageReceived", "SessionEnded", "DataSent", "Error"],
};

function textLength(value: unknown): number {
  return value && typeof (value as { length?: unknown }).length === "number" ? (value as { length: number }).length : 0;
}

export class LibraryRecorder implements LibraryEvents {
  readonly counts: LibraryCounts = {
    clients: 0,
    servers: 0,
    handshakes: 0,
    handshakeFailures: {},
    failureDetails: {},
    connectFailures: 0,
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    reconnects: 0,
    sessionsEnded: {},
    errors: 0,
    lastError: "",
    callbackErrors: 0,
  };
  readonly disguise: MemoryDisguise = { hidden: new WeakSet(), standIns: new WeakMap() };
  private readonly listeners = new Set<(event: LibraryEvent) => void>();
  private readonly instrumented = new WeakSet<object>();
  /** Per client: whether the app wants a connection (connectToServer called, disconnect not), and its sessions so far. */
  private readonly clients = new Map<object, { wanted: boolean; sessions: number }>();
  /** Per server: whether it listens. */
  private readonly servers = new Map<object, boolean>();
  /** The recorder function each (instance, callback) has while the app has set no callback of its own. */
  private readonly bare = new WeakMap<object, Record<string, Fn>>();

  listen(listener: (event: LibraryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  settled(): boolean {
    if (this.clients.size + this.servers.size === 0) return false;
    for (const [client, state] of this.clients) {
      if (state.wanted || (client as { isConnected?: () => boolean }).isConnected?.()) return false;
    }
    for (const listening of this.servers.values()) if (listening) return false;
    return true;
  }

  /** Instruments the module object require("lwstcp") returned (once; later calls do nothing). */
  instrumentLibrary(exported: unknown): void {
    if (!exported || typeof exported !== "object") return;
    const lib = exported as Record<string, unknown>;
    const client = lib.LightweightSecureClient as { prototype?: object } | undefined;
    const server = lib.LightweightSecureServer as { prototype?: object } | undefined;
    const session = lib.Session as { prototype?: object } | undefined;
    if (client && client.prototype) this.instrumentClass(client.prototype, "client");
    if (server && server.prototype) this.instrumentClass(server.prototype, "server");
    if (session && session.prototype) this.instrumentClass(session.prototype, "session");
  }

  private emit(event: LibraryEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private bump(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1;
  }

  private instrumentClass(proto: object, role: Role): void {
    if (this.instrumented.has(proto)) return;
    this.instrumented.add(proto);
    for (const name of CALLBACKS[role]) this.instrumentCallback(proto, role, name);
    const methods = proto as Record<string, unknown>;
    if (role === "client") {
      this.wrapMethod(methods, "connectToServer", (self, result) => {
        let state = this.clients.get(self);
        if (!state) {
          state = { wanted: false, sessions: 0 };
          this.clients.set(self, state);
          this.counts.clients++;
        }
        state.wanted = true;
        if (result === false) {
          this.counts.connectFailures++;
          this.emit({ type: "connect-failed" });
        }
      });
      this.wrapMethod(methods, "disconnect", (self) => {
        const state = this.clients.get(self);
        if (state) state.wanted = false;
      });
    } else if (role === "server") {
      this.wrapMethod(methods, "start", (self, result) => {
        if (result !== true) return;
        if (!this.servers.has(self)) this.counts.servers++;
        this.servers.set(self, true);
      });
      this.wrapMethod(methods, "stop", (self) => {
        if (this.servers.has(self)) this.servers.set(self, false);
      });
    }
  }

  /** Replaces proto[name] by a function that calls it and then `after(this, result)`. */
  private wrapMethod(proto: Record<string, unknown>, name: string, after: (self: object, result: unknown) => void): void {
    const original = proto[name];
    if (typeof original !== "function") return;
    const wrapper = function (this: object, ...args: unknown[]) {
      const result = Reflect.apply(original as Fn, this, args);
      after(this, result);
      return result;
    };
    this.disguise.standIns.set(wrapper, original);
    proto[name] = wrapper;
  }

  /** What happens when the library fires `on<name>` of an instance of `role`. */
  private record(role: Role, name: string, self: object, a: unknown, b: unknown): void {
    const counts = this.counts;
    const side = role === "server" ? "server" : "client";
    switch (name) {
      case "HandshakeSuccess": {
        counts.handshakes++;
        if (role === "client") {
          const state = this.clients.get(self);
          if (state && ++state.sessions > 1) counts.reconnects++;
        }
        // The server hands the app its Session: make sure Session's class is instrumented too.
        if (role === "server" && b && typeof b === "object") this.instrumentClass(Object.getPrototypeOf(b), "session");
        this.emit({ type: "handshake", role: side });
        break;
      }
      case "HandshakeFailed": {
        // A client gets (reason, detail); a server gets ({success, reason}).
        const reason = String(role === "server" ? (a as { reason?: unknown } | undefined)?.reason : a);
        this.bump(counts.handshakeFailures, reason);
        const detail = role === "client" && typeof b === "string" && b ? b : undefined;
        if (detail) counts.failureDetails[reason] = detail;
        this.emit({ type: "handshake-failed", role: side, reason, ...(detail ? { detail } : {}) });
        break;
      }
      case "MessageReceived":
        counts.messagesReceived++;
        counts.bytesReceived += textLength(a);
        this.emit({ type: "message-received", bytes: textLength(a) });
        break;
      case "DataSent":
        counts.messagesSent++;
        counts.bytesSent += typeof a === "number" ? a : 0;
        this.emit({ type: "message-sent", bytes: typeof a === "number" ? a : 0 });
        break;
      case "Disconnected":
      case "SessionEnded":
        this.bump(counts.sessionsEnded, String(a));
        this.emit({ type: "session-ended", reason: String(a) });
        break;
      case "Error":
        // A session's error reaches its server's onError as well: count it there only.
        if (role === "session") break;
        counts.errors++;
        counts.lastError = String(a);
        this.emit({ type: "error", text: String(a) });
        break;
    }
  }

  /** The function the library finds in on<name>: it records, then calls the app's callback (if any). */
  private recorder(role: Role, name: string, self: object, callback: unknown): Fn {
    const recorder = this;
    return function (this: unknown, a?: unknown, b?: unknown) {
      recorder.record(role, name, self, a, b);
      if (typeof callback !== "function") return undefined;
      try {
        return Reflect.apply(callback as Fn, this, [a, b]);
      } catch (error) {
        recorder.counts.callbackErrors++;
        recorder.emit({ type: "callback-threw", callback: "on" + name });
        throw error; // the library catches it and prints "lwstcp: callback threw: …", as on a board
      }
    };
  }

  private instrumentCallback(proto: object, role: Role, name: string): void {
    const key = "on" + name;
    const recorder = this;
    const { hidden, standIns } = this.disguise;
    const getBare = function (this: object): Fn {
      let table = recorder.bare.get(this);
      if (!table) recorder.bare.set(this, (table = {}));
      let fn = table[key];
      if (!fn) {
        fn = table[key] = recorder.recorder(role, name, this, undefined);
        hidden.add(fn);
      }
      return fn;
    };
    const setOwn = function (this: object, callback: unknown): void {
      // From now on this instance holds the app's callback itself, as `this.on<Name> = fn` would.
      let current = recorder.recorder(role, name, this, callback);
      const get = () => current;
      const set = (next: unknown) => {
        current = recorder.recorder(role, name, this, next);
        standIns.set(get, next);
      };
      standIns.set(get, callback);
      hidden.add(set);
      Object.defineProperty(this, key, { get, set, enumerable: true, configurable: true });
    };
    hidden.add(getBare);
    hidden.add(setOwn);
    Object.defineProperty(proto, key, { get: getBare, set: setOwn, enumerable: false, configurable: true });
  }
}
