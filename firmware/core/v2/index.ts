// The authenticated v2 profile (docs/PROTOCOL-v2.md): platform-free, crypto injected.
export * from "./connection.js";
export * from "./constants.js";
export * from "./framer.js";
export * from "./handshake.js";
export * from "./hkdf.js";
export * from "./hmac.js";
export * from "./primitives.js";
export * from "./profile.js";
export * from "./records.js";
