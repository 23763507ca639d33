// The Espruino `net` driver of the core Connection: one socket, one Connection, one timer.
//
// The boundary between Espruino's strings and the core's bytes is here and only here:
// - `data` events deliver binary strings; each is handed to the core as a Uint8Array view of
//   the same memory (E.toArrayBuffer makes a view, not a copy), so the framer copies it with
//   one native `set` instead of a charCodeAt per byte.
// - A binary string to send goes to the connection the same way (sendByteString, below).
// - `socket.write` converts its argument with toString, so a Uint8Array goes out as the
//   decimal text "9,9" (ESPRUINO.md §5). Every write therefore hands it E.toString(bytes).
// - A message for the application becomes a binary string (its UTF-8 bytes) the same way.
// The socket's `close` ends the connection (Espruino closes at once when the peer ends, and
// `end` is always followed by `close`); `error` is reported and ends it too. `drain` needs no
// handling: Espruino queues what `write` is given and sends 536 bytes per loop pass.

import { Connection, type ConnectionOptions } from "./core/connection.js";
import { REASON_HANDSHAKE_TIMEOUT, REASON_SOCKET_ERROR } from "./core/constants.js";
import { clientFailureDetail } from "./core/failure-detail.js";
import { type ConnectionSink, type ProtocolConnection, pollIntervalMs, ROLE_CLIENT } from "./core/lifecycle.js";

/** Builds the connection of another profile (v2: the Storage module lwstcp-v2) instead of a v1 Connection. */
export type ConnectionFactory = (role: number, options: DeviceOptions, sink: ConnectionSink) => ProtocolConnection;

/** A connection's options as lwstcp.ts makes them: v1's, plus the key itself for v2. */
export type DeviceOptions = ConnectionOptions & { preSharedKey?: Uint32Array; deviceId?: string };

/** The part of an Espruino Socket this driver uses. */
export interface EspruinoSocket {
  write(data: string): unknown;
  end(): void;
  on(event: string, listener: (arg?: any) => void): void;
}

/** What the transport reports upward. The owner (lwstcp.ts) guarantees none of these throws. */
export interface TransportEvents {
  handshakeSucceeded(): void;
  /** `detail`: the likely cause for people, when the reason alone cannot say it (core/failure-detail.ts). */
  handshakeFailed(reason: string, detail?: string): void;
  /** A message as a binary string of its bytes. */
  message(text: string): void;
  ended(reason: string): void;
  /** A socket error (Espruino's {code, message}); the connection then closes with "socket-error". */
  error(text: string): void;
}

/**
 * Drives a Connection (or what `create` builds: a v2 one) over an Espruino socket and returns
 * it; the caller sends, disconnects and asks its state through it. Call `start()` on it to
 * begin the handshake. With `silentMs`, a peer that has sent no byte by then fails the
 * handshake (handshake-timeout) before the full handshake timeout would.
 */
export function attachSocket(
  socket: EspruinoSocket,
  role: number,
  options: DeviceOptions,
  events: TransportEvents,
  create?: ConnectionFactory,
  silentMs?: number,
): ProtocolConnection {
  let open = true;
  /** Bytes were written: a v1 client writes nothing before its HandshakeResponse. */
  let wrote = false;
  /** Why we ended the socket ourselves without the connection deciding it (out of memory). */
  let failure: string | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let silent: ReturnType<typeof setTimeout> | undefined;
  const heard = function () {
    // clearTimeout(undefined) throws on Espruino.
    if (silent) clearTimeout(silent);
    silent = undefined;
  };
  const stopTimer = function () {
    // clearInterval(undefined) throws on Espruino, and clearInterval() clears every timer.
    if (timer) clearInterval(timer);
    timer = undefined;
    heard();
  };
  const outOfMemory = function (length: number) {
    events.error("out of memory for " + length + " bytes");
    failure = REASON_SOCKET_ERROR;
    socket.end();
  };
  const sink: ConnectionSink = {
    write: function (bytes, length) {
      if (!open) return;
      wrote = true;
      const text = E.toString(bytes.subarray(0, length));
      try {
        // E.toString gives undefined when it cannot allocate the string; write would then send
        // the text "undefined". End the socket instead: its close event ends the connection.
        if (typeof text === "string") socket.write(text);
        else outOfMemory(length);
      } catch (e) {
        // "This socket is closed": the close event follows and ends the connection.
        open = false;
      }
    },
    close: function () {
      stopTimer();
      if (!open) return;
      open = false;
      try {
        socket.end();
      } catch (e) {
        // Already closed underneath: nothing left to release.
      }
    },
    handshakeSucceeded: function () {
      events.handshakeSucceeded();
    },
    handshakeFailed: function (reason) {
      stopTimer();
      events.handshakeFailed(reason, role === ROLE_CLIENT && !create ? clientFailureDetail(reason, wrote) : undefined);
    },
    message: function (bytes, at, length) {
      const text = E.toString(bytes.subarray(at, at + length));
      if (typeof text === "string") events.message(text);
      else outOfMemory(length);
    },
    ended: function (reason) {
      stopTimer();
      events.ended(reason);
    },
  };
  const connection = create ? create(role, options, sink) : new Connection(role, options, sink);
  // On Espruino a byte loop costs ~17,000 interpreter instructions per byte; viewing the string
  // and copying it natively costs a few thousand per message (docs/PERFORMANCE.md).
  connection.sendByteString = function (text: string) {
    const bytes = new Uint8Array(E.toArrayBuffer(text));
    return connection.sendBytes(bytes, 0, bytes.length);
  };
  socket.on("data", function (data: string) {
    if (silent) heard();
    connection.receive(new Uint8Array(E.toArrayBuffer(data)));
  });
  socket.on("close", function () {
    open = false;
    stopTimer();
    connection.transportClosed(failure);
  });
  socket.on("error", function (err: { code?: number; message?: string } | undefined) {
    events.error("socket error " + (err ? err.code + " " + err.message : ""));
    connection.transportClosed(REASON_SOCKET_ERROR);
  });
  if (silentMs)
    silent = setTimeout(function () {
      silent = undefined;
      sink.close();
      connection.transportClosed(REASON_HANDSHAKE_TIMEOUT);
    }, silentMs);
  timer = setInterval(
    function () {
      connection.tick();
    },
    pollIntervalMs(connection.keepAliveIntervalMs, connection.inactivityTimeoutMs, connection.handshakeTimeoutMs),
  );
  return connection;
}
