// The platform-free core: everything that knows bytes and states, nothing that knows sockets.
export * from "./backoff.js";
export * from "./bytes.js";
export * from "./connection.js";
export * from "./constants.js";
export * from "./failure-detail.js";
export * from "./framer.js";
export * from "./handshake.js";
export * from "./keys.js";
export * from "./lifecycle.js";
export * from "./packets.js";
export * from "./u64.js";
export * from "./utf8.js";
export * from "./xtea.js";
