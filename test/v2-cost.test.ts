// What a v2 message costs on the device, counted on the Espruino primitives (each count is one
// native `crypto` call, each of which returns a new ArrayBuffer), and the protocol document's
// vector excerpt checked against the vectors file so the two never drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROLE_CLIENT, ROLE_SERVER } from "../firmware/core/connection.js";
import { ConnectionV2 } from "../firmware/core/v2/connection.js";
import { createEspruinoPrimitives } from "../firmware/crypto-v2.js";
import { recorder } from "./helpers/pair.js";
import { cryptoRandom, fakeEspruinoCrypto, hex, v2Vectors } from "./helpers/v2.js";
import { repoRoot } from "./helpers/vectors.js";

describe("v2 cost in native crypto calls (Espruino primitives)", () => {
  it("handshake 20 SHA-256 per side; data record 1 ECB + 1 CBC + 2 SHA-256 each way; keep-alive 2 SHA-256", () => {
    const serverCrypto = fakeEspruinoCrypto();
    const clientCrypto = fakeEspruinoCrypto();
    let now = 0;
    const base = { preSharedKey: hex(v2Vectors.psk), random: cryptoRandom, clock: () => now };
    const serverSink = recorder();
    const clientSink = recorder();
    const server = new ConnectionV2(ROLE_SERVER, { ...base, primitives: createEspruinoPrimitives(serverCrypto) }, serverSink);
    const client = new ConnectionV2(ROLE_CLIENT, { ...base, primitives: createEspruinoPrimitives(clientCrypto) }, clientSink);
    const flush = () => {
      while (serverSink.wire.length || clientSink.wire.length) {
        for (const c of serverSink.wire.splice(0)) client.receive(c);
        for (const c of clientSink.wire.splice(0)) server.receive(c);
      }
    };
    const take = (c: ReturnType<typeof fakeEspruinoCrypto>) => {
      const copy = { ...c.calls };
      c.calls.ECB = c.calls.CBC = c.calls.SHA256 = 0;
      return copy;
    };
    server.start();
    flush();
    assert.ok(server.isOpen && client.isOpen);
    assert.deepEqual(take(serverCrypto), { ECB: 0, CBC: 0, SHA256: 20 });
    assert.deepEqual(take(clientCrypto), { ECB: 0, CBC: 0, SHA256: 20 });
    client.sendByteString("x".repeat(1000));
    assert.deepEqual(take(clientCrypto), { ECB: 1, CBC: 1, SHA256: 2 }, "sending");
    flush();
    assert.deepEqual(take(serverCrypto), { ECB: 1, CBC: 1, SHA256: 2 }, "receiving");
    now += 5000;
    client.tick();
    flush();
    assert.deepEqual(take(clientCrypto), { ECB: 0, CBC: 0, SHA256: 2 }, "keep-alive sent");
    assert.deepEqual(take(serverCrypto), { ECB: 0, CBC: 0, SHA256: 2 }, "keep-alive checked");
  });
});

describe("docs/PROTOCOL-v2.md vector excerpt", () => {
  it("every hex value in the excerpt is in test/vectors/lwstcp-v2.json", () => {
    const doc = readFileSync(join(repoRoot, "docs", "PROTOCOL-v2.md"), "utf8");
    const excerpt = doc.slice(doc.indexOf("## Test vectors"));
    const json = JSON.stringify(v2Vectors);
    let checked = 0;
    for (const line of excerpt.split("\n")) {
      const joined = line.trim().replace(/ /g, "");
      const value =
        /^(?:[A-Za-z0-9_]+\s*=\s*)?([0-9a-f]{32,})$/.exec(line.trim())?.[1] ??
        (/^[0-9a-f ]+$/.test(line.trim()) && joined.length >= 32
          ? joined
          : /^(?:ServerHello|ClientHello|ServerFinished)\s+([0-9a-f ]+)$/.exec(line.trim())?.[1].replace(/ /g, ""));
      if (!value) continue;
      assert.ok(json.includes(value), `not in the vectors file: ${line.trim()}`);
      checked++;
    }
    assert.ok(checked === 23, `checked ${checked} values`);
  });
});
