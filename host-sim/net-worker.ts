// The simulated devices' TCP client stack, on its own thread. Espruino's net.connect blocks until
// the TCP handshake ends (ESPRUINO.md §5: a refused port throws synchronously), while Node connects
// asynchronously. The main thread posts a connect request and blocks in Atomics.wait; this thread
// makes the one real connection, reports the outcome through shared memory, and then relays the
// socket's traffic by messages. No probe connection is made, so a server sees exactly the
// connections the firmware opens.
import net from "node:net";
import { parentPort } from "node:worker_threads";
import { CONNECT_NO_HOST, CONNECT_OK, CONNECT_PENDING, CONNECT_REFUSED, CONNECT_STATE, type FromWorker, type ToWorker } from "./net-worker-protocol.js";

const sockets = new Map<number, net.Socket>();

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

function connect(request: Extract<ToWorker, { op: "connect" }>): void {
  const state = new Int32Array(request.state);
  const settle = (outcome: number) => {
    if (Atomics.load(state, CONNECT_STATE) !== CONNECT_PENDING) return;
    Atomics.store(state, CONNECT_STATE, outcome);
    Atomics.notify(state, CONNECT_STATE);
  };
  const socket = net.connect({ host: request.host, port: request.port });
  sockets.set(request.id, socket);
  socket.once("connect", () => settle(CONNECT_OK));
  socket.on("data", (data: Buffer) => post({ ev: "data", id: request.id, data: new Uint8Array(data) }));
  socket.on("end", () => post({ ev: "end", id: request.id }));
  socket.on("error", (error: NodeJS.ErrnoException) => {
    if (Atomics.load(state, CONNECT_STATE) === CONNECT_PENDING) {
      settle(error.code === "ENOTFOUND" || error.code === "EAI_AGAIN" ? CONNECT_NO_HOST : CONNECT_REFUSED);
      return;
    }
    post({ ev: "error", id: request.id, code: error.code ?? "", message: error.message });
  });
  socket.on("close", (hadError: boolean) => {
    sockets.delete(request.id);
    post({ ev: "close", id: request.id, hadError });
  });
}

parentPort!.on("message", (message: ToWorker) => {
  if (message.op === "connect") {
    connect(message);
    return;
  }
  const socket = sockets.get(message.id);
  if (!socket) return;
  if (message.op === "write") socket.write(message.data, () => post({ ev: "written", id: message.id }));
  else if (message.op === "end") socket.end();
  else socket.destroy();
});
