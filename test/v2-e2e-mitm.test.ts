// A man in the middle on 127.0.0.1 between the desktop client and server: a proxy that reads
// the stream packet by packet (it knows both profiles' framing, not the keys) and, after the
// handshake, flips a bit, truncates, replays, reorders, reflects, or injects a Disconnect or a
// KeepAlive. Against v2 every attack closes the session with a reason (mac-failed) and what
// the application received is exactly a prefix of what was sent: nothing altered, duplicated or
// reordered. The same proxy against v1 shows what v1 cannot catch — asserted here, documented
// in SECURITY.md.
import assert from "node:assert/strict";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import type { LightweightSecureServer, Profile, Session } from "../server/index.js";
import { testBytes } from "./helpers/seed.js";
import { delay, newClient, startServer, until, within } from "./helpers/server.js";

type Attack = "flip" | "flip-to-client" | "truncate" | "replay" | "reorder" | "reflect" | "inject-disconnect" | "inject-keepalive";

/** Packet size from the bytes at hand, or 0 while more are needed. */
function packetSize(profile: Profile, buf: Buffer): number {
  if (buf.length < 1) return 0;
  const type = buf[0];
  let size: number;
  if (profile === "v1") {
    if (type === 0x01) {
      if (buf.length < 3) return 0;
      size = 3 + ((buf.readUInt16BE(1) + 7) & ~7);
    } else size = type === 0x02 || type === 0x03 ? 25 : type === 0x04 ? 33 : 1;
  } else if (type === 0x11 || type === 0x15 || type === 0x16) {
    if (buf.length < 3) return 0;
    size = 3 + ((buf.readUInt16BE(1) + 15) & ~15) + 16;
  } else size = type === 0x13 ? 33 : 17;
  return buf.length >= size ? size : 0;
}

/** A proxy that frames both directions and applies one attack to the session's data packets. */
class TamperingProxy {
  port = 0;
  applied = false;
  private readonly server: Server;
  private readonly sockets: Socket[] = [];

  constructor(
    private readonly target: number,
    private readonly profile: Profile,
    private readonly attack: Attack,
  ) {
    this.server = createServer({ noDelay: true }, (inbound) => this.accept(inbound));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect({ host: "127.0.0.1", port: this.target, noDelay: true });
    this.sockets.push(client, server);
    for (const s of [client, server]) {
      s.on("error", () => {});
      s.on("close", () => (s === client ? server : client).destroy());
    }
    const v1 = this.profile === "v1";
    const data = v1 ? 0x01 : 0x11;
    let toServerData = 0;
    let held: Buffer | null = null;
    let reflected = false;
    const forged = (type: number) => (v1 ? Buffer.from([type]) : Buffer.concat([Buffer.from([type, 0, 0]), testBytes(16)]));
    const c2s = (packet: Buffer): Buffer[] => {
      if (packet[0] !== data) return [packet];
      const index = toServerData++;
      if (index !== 1) {
        if (held && index === 2 && this.attack === "reorder") {
          const first = held;
          held = null;
          return [packet, first];
        }
        if (index === 0 && this.attack === "inject-disconnect") return this.mark([packet, forged(v1 ? 0x06 : 0x16)]);
        if (index === 0 && this.attack === "inject-keepalive") return this.mark([packet, forged(v1 ? 0x05 : 0x15)]);
        return [packet];
      }
      switch (this.attack) {
        case "flip": {
          const copy = Buffer.from(packet);
          copy[3] ^= 0x10; // the first byte of the ciphertext
          return this.mark([copy]);
        }
        case "truncate":
          return this.mark([packet.subarray(0, packet.length - 5)]);
        case "replay":
          return this.mark([packet, packet]);
        case "reorder":
          held = packet;
          this.applied = true;
          return [];
        default:
          return [packet];
      }
    };
    const s2c = (packet: Buffer): Buffer[] => {
      if (packet[0] !== data || reflected) return [packet];
      reflected = true;
      if (this.attack === "reflect") {
        this.applied = true;
        server.write(packet); // the server's own record, back to it as if the client sent it
      }
      if (this.attack === "flip-to-client") {
        const copy = Buffer.from(packet);
        copy[3] ^= 0x10;
        return this.mark([copy]);
      }
      return [packet];
    };
    this.frame(client, server, c2s);
    this.frame(server, client, s2c);
  }

  private mark(out: Buffer[]): Buffer[] {
    this.applied = true;
    return out;
  }

  private frame(from: Socket, to: Socket, tamper: (packet: Buffer) => Buffer[]): void {
    let buffered = Buffer.alloc(0);
    from.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let size = packetSize(this.profile, buffered); size > 0; size = packetSize(this.profile, buffered)) {
        const packet = Buffer.from(buffered.subarray(0, size));
        buffered = buffered.subarray(size);
        for (const out of tamper(packet)) if (!to.destroyed) to.write(out);
      }
    });
    from.on("end", () => to.end());
  }
}

const MESSAGES = [0, 1, 2, 3].map((i) => `message ${i}: ` + "abcdefghijklmnopqrstuvwxyz".slice(0, 20 + i));

interface Outcome {
  /** What the server application received, in order. */
  received: string[];
  /** Why the server's session ended ("" if it is still open). */
  serverReason: string;
  /** Messages the client application received (echoes). */
  echoes: string[];
  clientReason: string;
  applied: boolean;
}

async function run(profile: Profile, attack: Attack): Promise<Outcome> {
  const server: LightweightSecureServer = await startServer({ profile, keepAliveIntervalMs: 60000, inactivityTimeoutMs: 120000 });
  const proxy = await new TamperingProxy(server.port, profile, attack).start();
  const received: string[] = [];
  let serverReason = "";
  server.on("session", (s: Session) => {
    s.on("message", (text: string, bytes: Buffer) => {
      received.push(text);
      // Echo only the first message: it gives the proxy one server record to reflect or flip.
      if (received.length === 1 && s.isActive) s.sendMessage(bytes);
    });
    s.on("ended", (reason: string) => (serverReason = reason));
  });
  const client = newClient(proxy.port, { profile, keepAliveIntervalMs: 60000, inactivityTimeoutMs: 120000 });
  const echoes: string[] = [];
  let clientReason = "";
  client.on("message", (text: string) => echoes.push(text));
  client.on("disconnected", (reason: string) => (clientReason = reason));
  try {
    assert.equal((await within(client.connectToServer(), 5000, "handshake through the proxy")).success, true);
    client.sendMessage(MESSAGES[0]);
    await until(() => echoes.length > 0 || clientReason !== "", { timeoutMs: 3000, what: "the first echo" });
    for (const m of MESSAGES.slice(1)) if (client.isConnected) client.sendMessage(m);
    // Done when the server's session ended or every message was handled; then a short settle.
    await until(() => serverReason !== "" || received.length >= MESSAGES.length, { timeoutMs: 3000, what: "the attack to play out" }).catch(() => undefined);
    await delay(100);
    return { received, serverReason, echoes, clientReason, applied: proxy.applied };
  } finally {
    await client.disconnect();
    await proxy.close();
    await server.stop();
  }
}

function isPrefixOfSent(received: string[]): boolean {
  return received.every((m, i) => m === MESSAGES[i]);
}

describe("a man in the middle on 127.0.0.1 (a packet-aware tampering proxy)", function () {
  this.timeout(30000);

  describe("against v2: every attack is rejected with a reason, nothing altered is delivered", () => {
    for (const attack of ["flip", "truncate", "replay", "reorder", "reflect", "inject-disconnect", "inject-keepalive"] as const) {
      it(attack + " (client -> server): the server ends with mac-failed; it received a prefix of what was sent", async () => {
        const o = await run("v2", attack);
        assert.ok(o.applied, "the proxy applied the attack");
        assert.equal(o.serverReason, "mac-failed", JSON.stringify(o));
        assert.ok(isPrefixOfSent(o.received), "received only untouched messages, in order: " + JSON.stringify(o.received));
        assert.ok(o.received.length < MESSAGES.length, "the session stopped at the attack");
        assert.ok(isPrefixOfSent(o.echoes));
      });
    }
    it("flip (server -> client): the client ends with mac-failed and delivers nothing altered", async () => {
      const o = await run("v2", "flip-to-client");
      assert.ok(o.applied);
      assert.equal(o.clientReason, "mac-failed", JSON.stringify(o));
      assert.deepEqual(o.echoes, []);
    });
  });

  describe("against v1: what v1 cannot catch (SECURITY.md)", () => {
    it("flip: an altered message is delivered and the session stays open", async () => {
      const o = await run("v1", "flip");
      assert.equal(o.received.length, MESSAGES.length, JSON.stringify(o));
      assert.notEqual(o.received[1], MESSAGES[1], "message 1 arrived altered");
      assert.deepEqual([o.received[0], o.received[2], o.received[3]], [MESSAGES[0], MESSAGES[2], MESSAGES[3]]);
      assert.equal(o.serverReason, "");
    });
    it("truncate: the message cut short is delivered completed by the next packet's bytes (altered)", async () => {
      const o = await run("v1", "truncate");
      assert.ok(o.received.length >= 2, JSON.stringify(o));
      assert.notEqual(o.received[1], MESSAGES[1]);
      // ECB: the first three 8-byte blocks are intact, the last one decrypts to garbage.
      assert.ok(o.received[1].startsWith(MESSAGES[1].slice(0, 24)), JSON.stringify(o.received[1]));
    });
    it("replay: the replayed message is delivered twice", async () => {
      const o = await run("v1", "replay");
      assert.deepEqual(o.received, [MESSAGES[0], MESSAGES[1], MESSAGES[1], MESSAGES[2], MESSAGES[3]]);
      assert.equal(o.serverReason, "");
    });
    it("reorder: messages are delivered in the attacker's order", async () => {
      const o = await run("v1", "reorder");
      assert.deepEqual(o.received, [MESSAGES[0], MESSAGES[2], MESSAGES[1], MESSAGES[3]]);
    });
    it("reflect: the server's own record sent back to it is delivered as a message from the client", async () => {
      const o = await run("v1", "reflect");
      assert.ok(o.applied);
      assert.equal(o.received.filter((m) => m === MESSAGES[0]).length, 2, JSON.stringify(o.received));
    });
    it("inject Disconnect: a forged 1-byte Disconnect ends the session as if the client had disconnected", async () => {
      const o = await run("v1", "inject-disconnect");
      assert.equal(o.serverReason, "disconnect");
      assert.deepEqual(o.received, [MESSAGES[0]]);
    });
    it("inject KeepAlive: a forged 1-byte KeepAlive is accepted unnoticed", async () => {
      const o = await run("v1", "inject-keepalive");
      assert.ok(o.applied);
      assert.deepEqual(o.received, MESSAGES);
      assert.equal(o.serverReason, "");
    });
  });
});
