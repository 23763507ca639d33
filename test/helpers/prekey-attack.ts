// The pre-key memory attack: many connections that each send a message header announcing the
// largest LENGTH (v1 `01 ff f8`, v2 `11 ff f8`) and some KB of body, holding their sockets open,
// against a server in its own process (memory-server.ts) whose memory is then read.
import { type ChildProcess, fork } from "node:child_process";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MemoryReport } from "./memory-server.js";

export type { MemoryReport };

export interface MemoryServer {
  port: number;
  /** Memory after a full GC, with the peak RSS since start or the last reset(). */
  report(): Promise<MemoryReport>;
  reset(): void;
  stop(): Promise<void>;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "memory-server.js");

function nextMessage<T>(child: ChildProcess, key: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error("the memory server sent no " + key + " within " + ms + " ms"));
    }, ms);
    const onMessage = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message[key] as T);
    };
    child.on("message", onMessage);
  });
}

export async function startMemoryServer(profile: "v1" | "v2", keyHex: string): Promise<MemoryServer> {
  const child = fork(SCRIPT, [profile], {
    execArgv: ["--expose-gc"],
    env: { ...process.env, LWSTCP_KEY: keyHex },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await nextMessage<number>(child, "port", 10000);
  return {
    port,
    report: () => {
      const answer = nextMessage<MemoryReport>(child, "report", 10000);
      child.send("report");
      return answer;
    },
    reset: () => void child.send("reset"),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("stop");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

export interface FloodResult {
  connections: number;
  /** Connections the server closed before the flood ended (all of them, once the framer judges TYPE first). */
  closedByServer: number;
  ms: number;
}

/**
 * Opens `count` connections, `concurrency` at a time; each sends `header` and `bodyBytes`
 * of body and stays open (a patient attacker) until the flood is over, unless the server
 * closes it first. Resolves once every connection has sent its bytes or been closed, and the
 * server has closed them all or `settleMs` has passed.
 */
export async function prekeyFlood(port: number, count: number, header: number[], bodyBytes: number, concurrency = 250, settleMs = 2000): Promise<FloodResult> {
  const payload = Buffer.alloc(header.length + bodyBytes, 0x5a);
  payload.set(header);
  const started = Date.now();
  const held: Socket[] = [];
  let closedByServer = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      held.push(socket);
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      socket.on("error", finish);
      socket.on("close", () => {
        closedByServer++;
        finish();
      });
      socket.resume(); // reading is how a hang-up from the server is noticed
      socket.on("connect", () => socket.write(payload, () => finish()));
    });
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const ms = Date.now() - started;
  // Give the server a moment to close what it is going to close, then hang up the rest.
  const deadline = Date.now() + settleMs;
  while (closedByServer < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const socket of held) {
    socket.removeAllListeners("close");
    socket.destroy();
  }
  return { connections: count, closedByServer, ms };
}
