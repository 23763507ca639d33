// The package's public surface: the desktop server and client, their options and results,
// the module-level key settings, and the few helpers a user of the CLIs' behaviour needs.

export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_ROUNDS,
  DEMO_KEY_WORDS,
  keyToHex,
  MAX_MESSAGE_LENGTH,
  NO_INACTIVITY_TIMEOUT,
  parseKey,
  REASON_BAD_LENGTH,
  REASON_BAD_SIZE,
  REASON_DISCONNECT,
  REASON_HANDSHAKE_TIMEOUT,
  REASON_INACTIVITY_TIMEOUT,
  REASON_LOCAL_DISCONNECT,
  REASON_PEER_CLOSED,
  REASON_SOCKET_ERROR,
  REASON_UNEXPECTED_HANDSHAKE,
  REASON_UNKNOWN_TYPE,
  REASON_VERIFY_FAILED,
  REASON_WRONG_TYPE,
  REASON_ZERO_LENGTH,
} from "../firmware/core/index.js";
export {
  deviceIdProblem,
  REASON_BAD_DEVICE_ID,
  REASON_MAC_FAILED,
  REASON_PROFILE_MISMATCH,
  REASON_PROOF_FAILED,
  REASON_UNKNOWN_DEVICE,
} from "../firmware/core/v2/constants.js";
export type { Backoff, BackoffOptions } from "./backoff.js";
export { backoffDelay } from "./backoff.js";
export { type ClientOptions, LightweightSecureClient, type ReconnectInfo } from "./client.js";
export {
  clearHandshakeKey,
  getNumberOfRounds,
  getProfile,
  type KeyInput,
  type Profile,
  type SecureOptions,
  setHandshakeKey,
  setNumberOfRounds,
  setProfile,
} from "./config.js";
export { type DeviceKeyLookup, type DeviceKeyTable, parseKeyTable } from "./device-keys.js";
export {
  ERR_CALLBACK,
  ERR_INTERNAL,
  ERR_INVALID_OPTION,
  ERR_MESSAGE_SIZE,
  ERR_NO_HANDSHAKE_KEY,
  ERR_NOT_OPEN,
  ERR_SEND_QUEUE_FULL,
  LwstcpError,
} from "./errors.js";
export { fizzBuzzLine, fizzBuzzNumber, fizzBuzzReply, fizzBuzzText } from "./fizzbuzz.js";
export {
  everyInterval,
  type FleetSnapshot,
  FleetStats,
  fleetStats,
  type StatsSummary,
  statsLine,
  summarize,
  type Traffic,
} from "./fleet-stats.js";
export type { HandshakeResult } from "./handshake-result.js";
export { type DeviceEntry, deviceEntry, type Monitor, type MonitorOptions, parseHttpAddress, startMonitor } from "./http/monitor.js";
export type { Message } from "./message.js";
export {
  checkMqttBridgeOptions,
  DEFAULT_MQTT_PREFIX,
  type MqttBridge,
  type MqttBridgeOptions,
  type MqttBridgeStats,
  startMqttBridge,
} from "./mqtt/bridge.js";
export { deviceTopicLevel } from "./mqtt/topics.js";
export {
  describeReason,
  REASON_INTERNAL_ERROR,
  REASON_REVOKED,
  REASON_SEND_STALLED,
  REFUSED_ADDRESS_LIMIT,
  REFUSED_HANDSHAKE_LIMIT,
  REFUSED_SESSION_LIMIT,
  REFUSED_STOPPING,
} from "./reasons.js";
export {
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_MAX_HANDSHAKES_PER_ADDRESS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SEND_STALL_TIMEOUT_MS,
  DEFAULT_SILENT_HANDSHAKE_TIMEOUT_MS,
  defaultQueueBudgetBytes,
  type KeysChange,
  LightweightSecureServer,
  type RefusedConnection,
  type ServerOptions,
  type ServerStats,
} from "./server.js";
export { type MessageCallback, Session } from "./session.js";
