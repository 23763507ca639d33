// require("net") with Espruino 2v29's semantics over real node:net sockets (ESPRUINO.md §5):
// blocking connect (a refused port throws synchronously), binary-string `data` events of at most
// 536 bytes per socket per idle pass in both directions, write() that stringifies its argument and
// returns false, then `drain`; data → end → close when the peer closes, with our side closing at once.
import net from "node:net";
import { Worker } from "node:worker_threads";
import { BLOCK_SIZE } from "../firmware/core/constants.js";
import type { DeviceCore, DeviceResource } from "./core.js";
import { fireEvent, listenersOf } from "./events.js";
import { stringJsVars } from "./memory.js";
import { CONNECT_NO_HOST, CONNECT_OK, CONNECT_PENDING, CONNECT_STATE, type FromWorker, type ToWorker } from "./net-worker-protocol.js";

/** net->chunkSize in network_esp32.c and network_linux.c. */
export const CHUNK_SIZE = 536;
/** How long a blocking connect may take before it counts as failed (lwIP's own timeout is longer). */
const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_ABANDONED = 99;

/** Espruino's socket error codes (libs/network/socketerrors.h); only the ones the simulator raises. */
export const SOCKET_ERR_RESET = -9;
export const SOCKET_ERR_UNKNOWN = -1;

interface TransportSink {
  data(bytes: Uint8Array): void;
  end(): void;
  error(code: string, message: string): void;
  close(hadError: boolean): void;
}

interface Transport {
  write(bytes: Uint8Array): void;
  end(): void;
  destroy(): void;
  attach(sink: TransportSink): void;
}

// ---- client connections: made on the network thread so connect can block -------------------------

class NetworkThread {
  private readonly worker: Worker;
  private readonly sinks = new Map<number, TransportSink>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL("./net-worker.js", import.meta.url));
    this.worker.unref();
    this.worker.on("message", (message: FromWorker) => this.dispatch(message));
  }

  private dispatch(message: FromWorker): void {
    const sink = this.sinks.get(message.id);
    if (!sink) return;
    switch (message.ev) {
      case "data":
        sink.data(message.data);
        break;
      case "end":
        sink.end();
        break;
      case "error":
        sink.error(message.code, message.message);
        break;
      case "close":
        this.sinks.delete(message.id);
        if (this.sinks.size === 0) this.worker.unref();
        sink.close(message.hadError);
        break;
      case "written":
        break;
    }
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Blocks the calling thread until the TCP handshake succeeds or fails, like lwIP's connect(). */
  connect(host: string, port: number): { outcome: number; transport?: Transport } {
    const id = this.nextId++;
    const state = new SharedArrayBuffer(4);
    const cell = new Int32Array(state);
    // Register first: data may follow the handshake before this thread reads the outcome.
    const early: Array<(sink: TransportSink) => void> = [];
    let attached: TransportSink | undefined;
    this.sinks.set(id, {
      data: (b) => (attached ? attached.data(b) : early.push((s) => s.data(b))),
      end: () => (attached ? attached.end() : early.push((s) => s.end())),
      error: (c, m) => (attached ? attached.error(c, m) : early.push((s) => s.error(c, m))),
      close: (h) => (attached ? attached.close(h) : early.push((s) => s.close(h))),
    });
    this.worker.ref();
    this.send({ op: "connect", id, host, port, state });
    Atomics.wait(cell, CONNECT_STATE, CONNECT_PENDING, CONNECT_TIMEOUT_MS);
    let outcome = Atomics.compareExchange(cell, CONNECT_STATE, CONNECT_PENDING, CONNECT_ABANDONED);
    if (outcome === CONNECT_PENDING) outcome = CONNECT_ABANDONED;
    if (outcome !== CONNECT_OK) {
      this.sinks.delete(id);
      if (this.sinks.size === 0) this.worker.unref();
      this.send({ op: "destroy", id });
      return { outcome };
    }
    const transport: Transport = {
      write: (data) => this.send({ op: "write", id, data }),
      end: () => this.send({ op: "end", id }),
      destroy: () => this.send({ op: "destroy", id }),
      attach: (sink) => {
        attached = sink;
        for (const replay of early.splice(0)) replay(sink);
      },
    };
    return { outcome, transport };
  }
}

let networkThread: NetworkThread | undefined;
function theNetworkThread(): NetworkThread {
  return (networkThread ??= new NetworkThread());
}

// ---- server-side connections: node sockets accepted on this thread -------------------------------

function localTransport(socket: net.Socket): Transport {
  return {
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    attach: (sink) => {
      socket.on("data", (b: Buffer) => sink.data(new Uint8Array(b)));
      socket.on("end", () => sink.end());
      socket.on("error", (e: NodeJS.ErrnoException) => sink.error(e.code ?? "", e.message));
      socket.on("close", (hadError: boolean) => sink.close(hadError));
    },
  };
}

// ---- the Socket the firmware sees ------------------------------------------------------------------

type SocketState = "open" | "ending" | "closed";

class SimSocket implements DeviceResource {
  readonly jsObject: Record<string, unknown>;
  private state: SocketState = "open";
  private rx: Uint8Array[] = [];
  private rxBytes = 0;
  /** Bytes of the next chunk whose device time is already charged (a device speed). */
  private rxCharged = 0;
  private tx: Uint8Array[] = [];
  private txBytes = 0;
  private drainPending = true; // Espruino fires one 'drain' after connecting when nothing is queued
  private peerEnded = false;
  private failure: { code: number; message: string } | undefined;
  /** After a link loss the socket is dead to the device, and the peer hears nothing (no FIN, no RST). */
  private frozen = false;
  connectCallbackGiven = false;
  private readonly pass = () => this.onePass();

  constructor(
    private readonly core: DeviceCore,
    private readonly transport: Transport,
    jsObject: Record<string, unknown>,
  ) {
    this.jsObject = jsObject;
    transport.attach({
      data: (bytes) => {
        if (this.frozen || this.state === "closed") return;
        this.rx.push(bytes);
        this.rxBytes += bytes.length;
        core.loop.requestPass();
      },
      end: () => {
        if (this.frozen) return;
        this.peerEnded = true;
        core.loop.requestPass();
      },
      error: (code, message) => {
        if (this.frozen || this.failure) return;
        this.failure = { code: code === "ECONNRESET" || code === "EPIPE" ? SOCKET_ERR_RESET : SOCKET_ERR_UNKNOWN, message };
        core.loop.requestPass();
      },
      close: () => {
        if (this.frozen) return;
        this.peerEnded = true;
        core.loop.requestPass();
      },
    });
    core.resources.add(this);
    core.loop.addPassHook(this.pass);
  }

  hiddenJsVars(): number {
    return this.txBytes > 0 ? stringJsVars(this.txBytes) : 0;
  }

  write(data: unknown): false {
    if (this.state !== "open") throw new this.core.intrinsics.Error("This socket is closed");
    // jsvAsString: a Uint8Array [9,9] goes out as the three bytes "9,9" (ESPRUINO.md §5).
    const bytes = Buffer.from(String(data), "latin1");
    if (bytes.length > 0) {
      this.tx.push(bytes);
      this.txBytes += bytes.length;
      // Sealed before it was written: its blocks and the send path.
      this.core.loop.charge(1, Math.ceil(bytes.length / BLOCK_SIZE));
    }
    this.drainPending = true;
    this.core.loop.requestPass();
    return false;
  }

  end(data: unknown): void {
    if (this.state !== "open") return;
    if (data !== undefined) this.write(data);
    this.state = "ending";
    this.core.loop.requestPass();
  }

  available(): number {
    return this.rxBytes;
  }

  read(count?: number): string {
    return Buffer.from(this.takeReceived(count ?? this.rxBytes)).toString("latin1");
  }

  private takeReceived(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.rxBytes));
    let filled = 0;
    while (filled < out.length) {
      const head = this.rx[0];
      const take = Math.min(head.length, out.length - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.rx.shift();
      else this.rx[0] = head.subarray(take);
    }
    this.rxBytes -= filled;
    return out;
  }

  /** One idle-loop pass: at most one netRecv and one netSend of CHUNK_SIZE bytes. */
  private onePass(): boolean {
    if (this.state === "closed") return false;
    if (this.failure) {
      const { code, message } = this.failure;
      const error = new this.core.intrinsics.Object() as Record<string, unknown>;
      error.code = code;
      error.message = message;
      this.finish();
      fireEvent(this.core, this.jsObject, "error", [error]);
      fireEvent(this.core, this.jsObject, "close", [true]);
      return false;
    }
    if (this.rxBytes > 0 && listenersOf(this.jsObject, "data").length > 0) {
      if (this.rxCharged === 0 && this.core.loop.chargesTime) {
        // With a device speed the chunk's handler and framing take their time first; the blocks
        // are charged when the library opens a whole message (device.ts).
        this.rxCharged = Math.min(CHUNK_SIZE, this.rxBytes);
        this.core.loop.charge(1, 0);
        return true;
      }
      const chunk = this.takeReceived(this.rxCharged || CHUNK_SIZE);
      this.rxCharged = 0;
      fireEvent(this.core, this.jsObject, "data", [Buffer.from(chunk).toString("latin1")]);
    } else if (this.peerEnded && (this.rxBytes === 0 || listenersOf(this.jsObject, "data").length === 0)) {
      // The peer closed: data → end → close, and Espruino closes its own side at once (no half-open).
      this.finish();
      this.transport.end();
      fireEvent(this.core, this.jsObject, "end", []);
      fireEvent(this.core, this.jsObject, "close", [false]);
      return false;
    }
    if ((this.state as SocketState) === "closed") return false; // a listener may have ended it
    if (this.txBytes > 0) {
      // Still working (a device speed): what it wrote goes out once that time is spent.
      if (this.core.loop.busy()) return true;
      const head = this.tx[0];
      const chunk = head.subarray(0, CHUNK_SIZE);
      if (chunk.length === head.length) this.tx.shift();
      else this.tx[0] = head.subarray(CHUNK_SIZE);
      this.txBytes -= chunk.length;
      this.transport.write(chunk.slice());
    } else if (this.drainPending) {
      this.drainPending = false;
      fireEvent(this.core, this.jsObject, "drain", [this.jsObject]);
    } else if (this.state === "ending") {
      this.finish();
      this.transport.end();
      fireEvent(this.core, this.jsObject, "close", [false]);
      return false;
    }
    return this.rxBytes > 0 || this.txBytes > 0 || this.drainPending || this.peerEnded || this.state === "ending";
  }

  private finish(): void {
    this.state = "closed";
    this.core.loop.removePassHook(this.pass);
    this.core.resources.delete(this);
  }

  dispose(): void {
    if (this.state !== "closed") this.finish();
    this.transport.destroy();
  }

  linkLost(): void {
    if (this.state === "closed") return;
    this.frozen = true;
    this.rx = [];
    this.rxBytes = 0;
    this.rxCharged = 0;
    this.failure = { code: SOCKET_ERR_RESET, message: "network link lost" };
    this.core.loop.requestPass();
  }
}

class SimServer implements DeviceResource {
  readonly server: net.Server;
  readonly listening: Promise<number>;
  private markListening!: (port: number) => void;

  constructor(
    private readonly core: DeviceCore,
    readonly jsObject: Record<string, unknown>,
    onConnection: (socket: net.Socket) => void,
  ) {
    this.server = net.createServer((socket) => onConnection(socket));
    this.listening = new Promise((resolve) => {
      this.markListening = resolve;
    });
    this.server.on("error", (error: Error) => core.print(`ERROR: ${error.message}`));
    core.resources.add(this);
  }

  /** On the host's loopback only: the one address a desktop test or user can reach the device at. */
  listen(port: number): void {
    this.server.listen(port, "127.0.0.1", () => this.markListening((this.server.address() as net.AddressInfo).port));
  }

  hiddenJsVars(): number {
    return 1;
  }

  dispose(): void {
    this.core.resources.delete(this);
    this.server.close();
  }
}

/** The parts of require("net") tests and the runner reach from outside the device. */
export interface NetHooks {
  /** Resolves with the port once every server the firmware asked to listen on `port` is listening. */
  whenListening(port: number): Promise<number>;
}

function parseTarget(options: unknown): { host: string; port: number } {
  if (typeof options === "string") {
    const match = /^[a-z]+:\/\/([^:/]+)(?::(\d+))?/i.exec(options);
    if (!match) return { host: options, port: 0 }; // "127.0.0.1:20488" is read as a host name, and fails
    return { host: match[1], port: Number(match[2] ?? 80) };
  }
  const o = (options ?? {}) as { host?: unknown; port?: unknown };
  return { host: o.host === undefined ? "127.0.0.1" : String(o.host), port: Number(o.port) };
}

export function createNetModule(core: DeviceCore): { module: object; hooks: NetHooks } {
  const { intrinsics } = core;
  const servers = new Map<number, SimServer>();
  const sockets = new WeakMap<object, SimSocket>();
  // The device defines the global classes Socket and Server (scripts/espruino-globals.json); their methods live here.
  const classOf = (name: string) => intrinsics.global[name] as { prototype: Record<string, unknown> };
  const SocketClass = classOf("Socket");
  const ServerClass = classOf("Server");
  const simOf = (obj: object): SimSocket => {
    const sim = sockets.get(obj);
    if (!sim) throw new intrinsics.TypeError("Not a socket");
    return sim;
  };
  const baseOn = intrinsics.Object.prototype as unknown as { on: Function };

  Object.assign(SocketClass.prototype, {
    write(this: object, data: unknown) {
      return simOf(this).write(data);
    },
    end(this: object, data?: unknown) {
      simOf(this).end(data);
    },
    available(this: object) {
      return simOf(this).available();
    },
    read(this: object, count?: number) {
      return simOf(this).read(count);
    },
    on(this: object, event: string, fn: unknown) {
      const sim = sockets.get(this);
      if (sim && String(event) === "connect" && sim.connectCallbackGiven) {
        // §5: the callback sits in #onconnect as a bare function; .on then trips ASSERT(jsvIsArray(source)).
        const message = "sock.on('connect') after net.connect(options, callback): the interpreter asserts and crashes";
        core.fail("interpreter-crash", message);
        throw new intrinsics.Error(message);
      }
      return Reflect.apply(baseOn.on, this, [event, fn]);
    },
  });

  function wrapSocket(transport: Transport): SimSocket {
    const obj = Reflect.construct(SocketClass as unknown as Function, []) as Record<string, unknown>;
    const sim = new SimSocket(core, transport, obj);
    sockets.set(obj, sim);
    return sim;
  }

  Object.assign(ServerClass.prototype, {
    listen(this: Record<string, unknown>, port: unknown) {
      const server = serverOf.get(this);
      if (!server) throw new intrinsics.TypeError("Not a server");
      server.listen(Number(port));
      servers.set(Number(port), server);
      return this;
    },
    close(this: Record<string, unknown>) {
      serverOf.get(this)?.dispose();
    },
  });
  const serverOf = new WeakMap<object, SimServer>();

  const module = new intrinsics.Object() as Record<string, unknown>;
  module.connect = (options: unknown, callback?: unknown) => {
    const { host, port } = parseTarget(options);
    if (!core.networkUp()) {
      core.print("ERROR: Connect failed (err 113)");
      throw new intrinsics.InternalError("Unable to create socket");
    }
    const { outcome, transport } = theNetworkThread().connect(host, port);
    if (outcome === CONNECT_NO_HOST) throw new intrinsics.InternalError("Unable to locate host");
    if (outcome !== CONNECT_OK || !transport) {
      core.print("ERROR: Connect failed (err 111)");
      throw new intrinsics.InternalError("Unable to create socket");
    }
    const sim = wrapSocket(transport);
    if (typeof callback === "function") {
      sim.jsObject["#onconnect"] = callback;
      sim.connectCallbackGiven = true;
    }
    core.loop.enqueue(() => fireEvent(core, sim.jsObject, "connect", [sim.jsObject]));
    return sim.jsObject;
  };
  module.createServer = (callback?: unknown) => {
    const obj = Reflect.construct(ServerClass as unknown as Function, []) as Record<string, unknown>;
    const server = new SimServer(core, obj, (socket) => {
      if (core.loop.isStopped) {
        socket.destroy();
        return;
      }
      const sim = wrapSocket(localTransport(socket));
      if (typeof callback === "function") core.loop.enqueue(() => core.loop.invoke(callback, undefined, [sim.jsObject]));
    });
    serverOf.set(obj, server);
    return obj;
  };

  const hooks: NetHooks = {
    whenListening: async (port) => {
      const server = servers.get(port);
      if (!server) throw new Error(`no server on port ${port} on device ${core.name}`);
      return server.listening;
    },
  };
  return { module, hooks };
}
