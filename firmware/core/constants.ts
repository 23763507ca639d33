// Wire constants of LightweightSecureTCP v1 (docs/PROTOCOL.md). The encoder, the
// decoder, the framer and the tests all import these; no packet size is written twice.

export const TYPE_MESSAGE = 0x01;
export const TYPE_HANDSHAKE_REQUEST = 0x02;
export const TYPE_HANDSHAKE_RESPONSE = 0x03;
export const TYPE_HANDSHAKE_SUCCESS = 0x04;
export const TYPE_KEEP_ALIVE = 0x05;
export const TYPE_DISCONNECT = 0x06;

/** TYPE + u16 big-endian LENGTH. */
export const MESSAGE_HEADER_SIZE = 3;
/** Largest message: the LENGTH that still fits 65535 after rounding up to whole blocks. */
export const MAX_MESSAGE_LENGTH = 65528;
export const MAX_PACKET_SIZE = MESSAGE_HEADER_SIZE + MAX_MESSAGE_LENGTH;
/** Request and Response: TYPE + 24 encrypted bytes (20 bytes of numbers + 4 of padding). */
export const HANDSHAKE_NUMBERS_PACKET_SIZE = 25;
export const HANDSHAKE_NUMBERS_SIZE = 20;
/** Success: TYPE + the 32-byte session key, encrypted. */
export const HANDSHAKE_SUCCESS_PACKET_SIZE = 33;
export const SIGNAL_PACKET_SIZE = 1;

export const BLOCK_SIZE = 8;
export const KEY_WORDS = 8;
export const KEY_BYTES = 32;
export const DEFAULT_ROUNDS = 32;
export const MIN_ROUNDS = 1;
export const MAX_ROUNDS = 128;

export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 5000;
export const DEFAULT_INACTIVITY_TIMEOUT_MS = 30000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
/** Inactivity timeout value that disables the check. */
export const NO_INACTIVITY_TIMEOUT = -1;

/**
 * Failure reasons. Callbacks receive these strings and tests assert them; the human
 * readable detail lives in the accompanying message, never in the reason itself.
 */
export const REASON_WRONG_TYPE = "wrong-type";
export const REASON_BAD_SIZE = "bad-size";
export const REASON_VERIFY_FAILED = "verify-failed";
export const REASON_HANDSHAKE_TIMEOUT = "handshake-timeout";
export const REASON_UNKNOWN_TYPE = "unknown-type";
/** The peer's first packet is the other profile's (v1 against v2): both ends need the same profile. */
export const REASON_PROFILE_MISMATCH = "profile-mismatch";
/** The v2 ServerHello: the first byte a v2 server sends, which a v1 client names profile-mismatch. */
export const TYPE_V2_SERVER_HELLO = 0x12;
export const REASON_ZERO_LENGTH = "zero-length";
export const REASON_BAD_LENGTH = "bad-length";
export const REASON_UNEXPECTED_HANDSHAKE = "unexpected-handshake-packet";
export const REASON_PEER_CLOSED = "peer-closed";
export const REASON_DISCONNECT = "disconnect";
export const REASON_LOCAL_DISCONNECT = "local-disconnect";
export const REASON_INACTIVITY_TIMEOUT = "inactivity-timeout";
export const REASON_SOCKET_ERROR = "socket-error";

/** Rounds a message length up to whole cipher blocks. */
export function paddedLength(length: number): number {
  return (length + 7) & ~7;
}

/** Total size of a packet given its TYPE, or 0 when the size depends on LENGTH (messages) or the TYPE is unknown. */
export function fixedPacketSize(type: number): number {
  switch (type) {
    case TYPE_HANDSHAKE_REQUEST:
    case TYPE_HANDSHAKE_RESPONSE:
      return HANDSHAKE_NUMBERS_PACKET_SIZE;
    case TYPE_HANDSHAKE_SUCCESS:
      return HANDSHAKE_SUCCESS_PACKET_SIZE;
    case TYPE_KEEP_ALIVE:
    case TYPE_DISCONNECT:
      return SIGNAL_PACKET_SIZE;
    default:
      return 0;
  }
}
