// The MQTT bridge: what devices send is published to a broker, what is published for a device is
// sent to it, and each device's and the server's presence is kept as retained status messages.
// Several servers on one broker each subscribe to every device's down topic and deliver only to
// the devices they hold, so the broker is the shared bus and no server needs to know the others.
//
// Reconnecting uses the project's one backoff formula (server/backoff.ts), not MQTT.js's fixed
// reconnectPeriod: MQTT.js is told never to reconnect by itself, and the bridge calls
// reconnect() after each backoff delay. A reconnect starts with empty MQTT.js stores, so nothing
// published before the outage is replayed after it (a stale "offline" cannot land on a fresh
// "online"); what must be true after an outage is republished from the bridge's own state.

import { hostname } from "node:os";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { MAX_MESSAGE_LENGTH } from "../../firmware/core/index.js";
import { type BackoffOptions, backoffDelay, readBackoff } from "../backoff.js";
import { ERR_INVALID_OPTION, LwstcpError } from "../errors.js";
import type { LogFunction } from "../log.js";
import type { LightweightSecureServer } from "../server.js";
import type { Session } from "../session.js";
import { deviceTopicLevel, prefixProblem, serverNameProblem, type TopicTree, topicTree } from "./topics.js";

export const DEFAULT_MQTT_PREFIX = "lwstcp";
/** Past this many bytes waiting for the broker's socket, up-messages are dropped (a slow broker must not eat memory). */
export const MAX_MQTT_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Devices whose "offline" the broker has not confirmed, kept for republishing after an outage; the oldest go first past this. */
export const MAX_UNCONFIRMED_OFFLINE = 10000;
/** How long stop() waits for the broker to confirm the last status messages. */
const STOP_FLUSH_MS = 2000;

export interface MqttBridgeOptions {
  /** mqtt://HOST:PORT (or mqtts://); no credentials in it: use username/password. */
  url: string;
  /** The first topic level(s) (default "lwstcp"). */
  prefix?: string;
  /** This server's level in <prefix>/$server/<name> and its MQTT client id; unique per broker (default "<hostname>:<port>"). */
  name?: string;
  username?: string;
  password?: string;
  /** Delays between reconnect attempts (default, as the client's autoReconnect: 1 s doubling to 30 s, jittered). */
  reconnect?: BackoffOptions;
  /** Where the bridge's log lines go (mqtt-connected, mqtt-disconnected, mqtt-down-dropped, …). */
  log?: LogFunction;
}

export interface MqttBridgeStats {
  /** Messages from devices published to the broker. */
  published: number;
  /** Messages from devices not published: the broker was away or too slow. */
  dropped: number;
  /** Messages from the broker sent to a device this server holds. */
  delivered: number;
  /** Down messages for devices this server does not hold (another server's, or nobody's). */
  ignored: number;
  /** Down messages refused: empty, too long, retained, or the device's send failed. */
  rejected: number;
}

export interface MqttBridge {
  /** This server's name as it appears in <prefix>/$server/<name>. */
  readonly name: string;
  /** Whether the broker connection is up now. */
  readonly connected: boolean;
  readonly stats: Readonly<MqttBridgeStats>;
  /** Publishes the server's "offline", disconnects from the broker and stops bridging. */
  stop(): Promise<void>;
}

function invalid(message: string): never {
  throw new LwstcpError(ERR_INVALID_OPTION, message);
}

/** The broker URL checked: mqtt: or mqtts:, a host, no credentials. */
function brokerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid("mqtt url must look like mqtt://HOST:PORT, got '" + text + "'");
  }
  if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") invalid("mqtt url must start with mqtt:// or mqtts://, got '" + text + "'");
  if (url.hostname === "") invalid("mqtt url has no host: '" + text + "'");
  if (url.username !== "" || url.password !== "") invalid("mqtt url must not carry credentials: give the username and password separately");
  return url;
}

/** Throws ERR_LWSTCP_INVALID_OPTION naming the first problem with `options` (the CLI checks its flags with it before listening). */
export function checkMqttBridgeOptions(options: MqttBridgeOptions): void {
  brokerUrl(options.url);
  const prefix = options.prefix ?? DEFAULT_MQTT_PREFIX;
  const badPrefix = prefixProblem(prefix);
  if (badPrefix) invalid("mqtt prefix " + badPrefix + ", got '" + prefix + "'");
  const badName = options.name === undefined ? undefined : serverNameProblem(options.name);
  if (badName) invalid("mqtt server name " + badName + ", got '" + options.name + "'");
  if (options.password !== undefined && options.username === undefined) invalid("an mqtt password needs a username");
  if (options.reconnect) readBackoff(options.reconnect);
}

/**
 * Bridges `server`'s sessions (those open now and those to come) to an MQTT broker until stop().
 * Call it after server.start() when relying on the default name (it includes the listening port).
 * Resolves once the bridge is set up, without waiting for the broker: the connection comes up (and
 * comes back) in the background. Rejects with ERR_LWSTCP_INVALID_OPTION for bad options.
 */
export async function startMqttBridge(server: LightweightSecureServer, options: MqttBridgeOptions): Promise<MqttBridge> {
  checkMqttBridgeOptions(options);
  // MQTT.js takes longer to load than the rest of the server together: only bridges pay for it.
  const { connect } = await import("mqtt");
  const url = brokerUrl(options.url);
  const prefix = options.prefix ?? DEFAULT_MQTT_PREFIX;
  const name = options.name ?? (deviceTopicLevel(hostname() + ":" + server.port) as string);
  const backoff = readBackoff(options.reconnect ?? {});
  const log: LogFunction = options.log ?? (() => {});
  const topics: TopicTree = topicTree(prefix, name);
  const broker = url.host;
  const stats: MqttBridgeStats = { published: 0, dropped: 0, delivered: 0, ignored: 0, rejected: 0 };

  // The newest session under each device level: a device that reconnects opens its new session
  // before the old one times out, and the old one's end must not mark the device offline.
  const live = new Map<string, Session>();
  const unconfirmedOffline = new Set<string>();
  let stopping = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let away = false;
  // Up-messages dropped since the last "mqtt-connected" line, which reports them.
  let droppedUnreported = 0;
  let lastError = "";

  const clientOptions: IClientOptions = {
    clientId: "lwstcp-" + name,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10000,
    keepalive: 30,
    queueQoSZero: false,
    username: options.username,
    password: options.password,
    will: { topic: topics.serverStatus, payload: Buffer.from("offline"), qos: 1, retain: true },
  };
  const client: MqttClient = connect(url.href, clientOptions);

  const publishStatus = (level: string, state: "online" | "offline"): void => {
    client.publish(topics.status(level), state, { qos: 1, retain: true }, (err) => {
      if (!err && state === "offline" && !live.has(level)) unconfirmedOffline.delete(level);
    });
  };

  client.on("connect", () => {
    attempt = 0;
    away = false;
    log("mqtt-connected", { broker, name, dropped: droppedUnreported || undefined });
    droppedUnreported = 0;
    client.subscribe(topics.allDown, { qos: 1 }, (err) => {
      if (err) log("error", { reason: "mqtt: cannot subscribe to " + topics.allDown + ": " + err.message });
    });
    client.publish(topics.serverStatus, "online", { qos: 1, retain: true });
    // A broker that restarted without persistence has forgotten every retained status.
    for (const level of live.keys()) publishStatus(level, "online");
    for (const level of unconfirmedOffline) publishStatus(level, "offline");
  });
  client.on("error", (err) => {
    lastError = err.message;
  });
  client.on("close", () => {
    // QoS 1 messages the broker never confirmed: failed now (their callbacks see an error), so
    // they are neither replayed by a later connection nor waited for by stop().
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    if (stopping) return;
    if (!away) {
      away = true;
      log("mqtt-disconnected", { broker, reason: lastError || "connection closed" });
    }
    lastError = "";
    const delay = backoffDelay(backoff, attempt++);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!stopping) client.reconnect();
    }, delay);
  });

  client.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const level = topics.downLevel(topic);
    if (level === undefined) return;
    const session = live.get(level);
    if (!session) {
      stats.ignored++;
      return;
    }
    const refuse = (reason: string) => {
      stats.rejected++;
      log("mqtt-down-dropped", { device: session.name, bytes: payload.length, reason });
    };
    // A retained command would be replayed at every reconnect of this bridge.
    if (packet.retain) return refuse("retained down messages are not delivered");
    if (payload.length === 0) return refuse("empty message");
    if (payload.length > MAX_MESSAGE_LENGTH) return refuse("longer than " + MAX_MESSAGE_LENGTH + " bytes");
    try {
      session.sendMessage(payload);
      stats.delivered++;
    } catch (err) {
      refuse((err as Error).message);
    }
  });

  const onSession = (session: Session) => {
    const deviceName = session.name;
    const level = deviceTopicLevel(deviceName);
    if (level === undefined) {
      log("mqtt-refused-name", { peer: session.peer, reason: "an empty device name has no topic" });
      return;
    }
    live.set(level, session);
    unconfirmedOffline.delete(level);
    if (client.connected) publishStatus(level, "online");
    const upTopic = topics.up(level);
    session.on("message", (_text: string, bytes: Buffer) => {
      if (stopping) return;
      const stream = client.connected ? client.stream : undefined;
      if (!stream || stream.writableLength > MAX_MQTT_BUFFERED_BYTES) {
        stats.dropped++;
        droppedUnreported++;
        return;
      }
      client.publish(upTopic, bytes, { qos: 0 });
      stats.published++;
    });
    session.on("ended", () => {
      if (live.get(level) !== session) return;
      live.delete(level);
      if (unconfirmedOffline.size >= MAX_UNCONFIRMED_OFFLINE) unconfirmedOffline.delete(unconfirmedOffline.values().next().value as string);
      unconfirmedOffline.add(level);
      if (client.connected) publishStatus(level, "offline");
    });
  };
  server.on("session", onSession);
  for (const session of server.sessions) onSession(session);

  return {
    name,
    get connected() {
      return client.connected;
    },
    stats,
    stop(): Promise<void> {
      if (stopping) return Promise.resolve();
      stopping = true;
      server.off("session", onSession);
      if (retryTimer) clearTimeout(retryTimer);
      if (!client.connected) return client.endAsync(true);
      return new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        // A broker that stops answering must not hold the process: give up and drop the connection.
        const timer = setTimeout(() => client.end(true, finish), STOP_FLUSH_MS);
        // Sessions that go on without the bridge are, as far as MQTT can tell, offline.
        for (const level of live.keys()) client.publish(topics.status(level), "offline", { qos: 1, retain: true });
        live.clear();
        client.publish(topics.serverStatus, "offline", { qos: 1, retain: true }, () => client.end(false, finish));
      });
    },
  };
}
