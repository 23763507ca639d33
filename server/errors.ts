// Errors the library throws or reports, each with a stable code that programs and tests
// check (as ws does); the message is for people and says what to change.

export const ERR_NO_HANDSHAKE_KEY = "ERR_LWSTCP_NO_HANDSHAKE_KEY";
export const ERR_INVALID_OPTION = "ERR_LWSTCP_INVALID_OPTION";
export const ERR_MESSAGE_SIZE = "ERR_LWSTCP_MESSAGE_SIZE";
export const ERR_NOT_OPEN = "ERR_LWSTCP_NOT_OPEN";
export const ERR_SEND_QUEUE_FULL = "ERR_LWSTCP_SEND_QUEUE_FULL";
export const ERR_CALLBACK = "ERR_LWSTCP_CALLBACK";
export const ERR_INTERNAL = "ERR_LWSTCP_INTERNAL";

export class LwstcpError extends Error {
  readonly code: string;
  /** The peer ("ip:port") the error concerns, when there is one. */
  peer?: string;

  constructor(code: string, message: string, options?: { cause?: unknown; peer?: string }) {
    super(message, options && options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "LwstcpError";
    this.code = code;
    if (options && options.peer) this.peer = options.peer;
  }
}

/** Wraps whatever was thrown (user callbacks may throw anything) into an Error. */
export function asError(thrown: unknown, code: string, context: string): Error {
  if (thrown instanceof Error) return thrown;
  return new LwstcpError(code, context + ": " + String(thrown), { cause: thrown });
}
