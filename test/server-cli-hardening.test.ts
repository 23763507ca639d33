// The CLIs under attack, as spawned processes: what `lwstcp-client --mode
// echo` does and does not prove against a keyless server that reflects our packets, SIGHUP as a
// reload that keeps the server and its sessions (with --keys it re-reads the keys file:
// test/v2-identity-cli.test.ts), SIGTERM as a graceful stop, and a non-reading peer's refused
// echoes logged once, not once per message.

import assert from "node:assert/strict";
import { LightweightSecureClient } from "../server/index.js";
import { CLIENT_CLI, startLwstcpServer, startNode, stopAfterEach, until } from "./helpers/processes.js";
import { fakeServer, nonReadingPusher, within } from "./helpers/reliability.js";
import { testBytes } from "./helpers/seed.js";
import { KEY_HEX } from "./helpers/server.js";

/** A server without the key: answers the handshake with random bytes of the right shape, then sends back whatever arrives. */
function reflector(profile: "v1" | "v2") {
  return fakeServer(async (socket, reader) => {
    if (profile === "v1") {
      socket.write(Buffer.concat([Buffer.from([0x02]), testBytes(24)]));
      await reader.read(25, 5000);
      socket.write(Buffer.concat([Buffer.from([0x04]), testBytes(32)]));
    } else {
      socket.write(Buffer.concat([Buffer.from([0x12]), testBytes(16)]));
      await reader.read(33, 5000);
      socket.write(Buffer.concat([Buffer.from([0x14]), testBytes(16)]));
    }
    // From here on: every byte straight back.
    for (;;) {
      if (reader.available) socket.write(await reader.read(reader.available));
      else if (reader.closed) return;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
}

function runClient(port: number, args: string[]) {
  return startNode(CLIENT_CLI, ["--host", "127.0.0.1", "--port", String(port), "--key", KEY_HEX, ...args]);
}

describe("CLIs under attack", function () {
  this.timeout(30000);
  const { procs } = stopAfterEach();

  it("lwstcp-client --mode echo under v1 passes against a keyless reflector (and says it proves nothing); fizzbuzz and v2 fail it", async () => {
    for (const profile of ["v1", "v2"] as const) {
      const fake = await reflector(profile);
      try {
        const echo = runClient(fake.port, ["--profile", profile, "--mode", "echo", "--sizes", "1,8,100"]);
        procs.push(echo);
        const code = await within(echo.exit, 15000, "the echo client to exit");
        if (profile === "v1") {
          // What v1 cannot do: the impostor's reflection decrypts to our own message.
          assert.equal(code, 0, echo.out());
          assert.match(echo.out(), /echo: 100 bytes ok/);
          assert.match(echo.out(), /under profile v1 an echo check does not show that the server holds the key/);
          const fizz = runClient(fake.port, ["--mode", "fizzbuzz", "--count", "3"]);
          procs.push(fizz);
          assert.equal(await within(fizz.exit, 15000, "the fizzbuzz client to exit"), 1, fizz.out());
          assert.match(fizz.out(), /wrong reply/);
        } else {
          assert.equal(code, 1, echo.out());
          assert.match(echo.out(), /proof-failed/);
          assert.doesNotMatch(echo.out(), /bytes ok|does not show/);
        }
      } finally {
        await fake.close();
      }
    }
  });

  it("SIGHUP without --keys keeps lwstcp-server and its sessions (one reload line); SIGTERM stops it gracefully: Disconnect, exit 0", async () => {
    const server = await startLwstcpServer(0, ["--key", KEY_HEX, "--mode", "echo"]);
    procs.push(server);
    const port = server.events().find((e) => e.event === "started")?.port as number;
    const client = new LightweightSecureClient("127.0.0.1", port, { key: KEY_HEX });
    assert.equal((await client.connectToServer()).success, true);
    server.child.kill("SIGHUP");
    await until(() => server.events().some((e) => e.event === "reload"), { timeoutMs: 5000, what: () => "a reload line: " + server.out() });
    const echoed = new Promise<string>((resolve) => client.once("message", resolve));
    client.sendMessage("after SIGHUP");
    assert.equal(await within(echoed, 5000, "the echo after SIGHUP"), "after SIGHUP");
    assert.ok(!server.events().some((e) => e.event === "stopping"), server.out());
    const disconnected = new Promise<string>((resolve) => client.once("disconnected", resolve));
    server.child.kill("SIGTERM");
    assert.equal(await within(disconnected, 5000, "the client to be disconnected"), "disconnect");
    assert.equal(await within(server.exit, 5000, "the server to exit"), 0, server.out());
    assert.ok(server.events().some((e) => e.event === "stopping" && e.reason === "SIGTERM"));
    assert.ok(server.events().some((e) => e.event === "stopped"));
  });

  it("a non-reading peer's refused echoes are logged once, even with --quiet, and it is ended at --stall-timeout", async () => {
    const server = await startLwstcpServer(0, ["--key", KEY_HEX, "--mode", "echo", "--quiet", "--max-queued-bytes", "65536", "--stall-timeout", "1500"]);
    procs.push(server);
    const port = server.events().find((e) => e.event === "started")?.port as number;
    const pusher = await nonReadingPusher(port, { total: 8 * 1024 * 1024, size: 1000, keepAliveMs: 200, maxMs: 20000 });
    const pushed = await within(pusher.done, 25000, "the server to close the non-reading peer");
    await until(() => server.events().some((e) => e.event === "error"), { timeoutMs: 5000, what: () => "a refusal logged: " + server.out() });
    const refusals = server.events().filter((e) => e.event === "error" && /cannot send/.test(String(e.reason)));
    // Several MB of 1,000-byte echoes went unanswered, thousands of refusals: one line.
    assert.ok(pushed > 2 * 1024 * 1024, "pushed " + pushed);
    assert.equal(refusals.length, 1, server.out());
    assert.match(String(refusals[0].reason), /further refusals not logged/);
  });
});
