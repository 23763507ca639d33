// The live view of one server over HTTP: /metrics (Prometheus text), /devices and
// /devices/<name> (JSON), and / (a page that lists the devices live). It runs in the server's
// process, so every answer is cheap and asynchronous, and the HTTP side has hard limits of its
// own (connections, header size, time to send a request, no bodies, GET and HEAD only): a slow
// or hostile HTTP client costs a bounded socket, never the protocol side's sessions.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FleetStats, fleetStats } from "../fleet-stats.js";
import type { LightweightSecureServer } from "../server.js";
import type { Session } from "../session.js";
import { createFleetMetrics, type FleetMetrics } from "./metrics.js";
import { PAGE_CSP, PAGE_HTML } from "./page.js";

export const DEFAULT_MONITOR_HOST = "127.0.0.1";
/** Enough for a few dashboards, scrapers and phones; more are closed as they arrive. */
export const DEFAULT_MONITOR_MAX_CONNECTIONS = 64;
/** Node's default is 16 KiB; our requests are a path and a few headers. */
export const DEFAULT_MONITOR_MAX_HEADER_BYTES = 8192;
export const DEFAULT_MONITOR_HEADERS_TIMEOUT_MS = 5000;
export const DEFAULT_MONITOR_REQUEST_TIMEOUT_MS = 10000;
/** A socket with no traffic either way (a client that stopped reading its answer) is closed after this. */
export const DEFAULT_MONITOR_IDLE_TIMEOUT_MS = 15000;

export interface MonitorOptions {
  /** Address to listen on (default 127.0.0.1: the view has no authentication). */
  host?: string;
  /** TCP port; 0 (the default) picks a free one, read back from `port`. */
  port?: number;
  /** Most HTTP connections at once (default 64); more are closed at once. */
  maxConnections?: number;
  /** Largest request head in bytes (default 8192); larger gets 431. */
  maxHeaderBytes?: number;
  /** Time a client has to send its request head (default 5000 ms). */
  headersTimeoutMs?: number;
  /** Time a client has to send its whole request (default 10000 ms). */
  requestTimeoutMs?: number;
  /** Close a connection with no traffic for this long (default 15000 ms). */
  idleTimeoutMs?: number;
}

export interface Monitor {
  readonly host: string;
  readonly port: number;
  /** "http://host:port/". */
  readonly url: string;
  readonly stats: FleetStats;
  readonly metrics: FleetMetrics;
  /** Stops listening and closes every HTTP connection; the lwstcp server is not touched. */
  close(): Promise<void>;
}

/** One open session as /devices shows it. */
export interface DeviceEntry {
  /** The v2 device id; null for v1 (its wire format carries none) and v2 peers that sent none. */
  id: string | null;
  /** The id, else the peer address: what logs, /devices/<name> and bridges call the device. */
  name: string;
  peer: string;
  profile: string;
  remoteAddress: string;
  remotePort: number;
  connectedSince: string;
  /** When it last sent a packet, KeepAlive included. */
  lastSeen: string;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export function deviceEntry(session: Session): DeviceEntry {
  return {
    id: session.deviceId ?? null,
    name: session.name,
    peer: session.peer,
    profile: session.profile,
    remoteAddress: session.remoteAddress,
    remotePort: session.remotePort,
    connectedSince: new Date(session.connectedAt).toISOString(),
    lastSeen: new Date(session.lastSeenAt).toISOString(),
    messagesIn: session.messagesIn,
    messagesOut: session.messagesOut,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
  };
}

/**
 * "[HOST:]PORT" as --http takes it: "8080", "0.0.0.0:8080", "[::1]:8080" (host defaults to
 * 127.0.0.1, port 0 picks a free one). Throws an Error naming the problem.
 */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : -1;
  if (!match || port > 65535) throw new Error("--http must be [HOST:]PORT with a port from 0 to 65535 (0: any free port), got '" + text + "'");
  const host = match[1] === undefined ? DEFAULT_MONITOR_HOST : match[1].replace(/^\[(.*)\]$/, "$1");
  return { host, port };
}

const JSON_TYPE = "application/json; charset=utf-8";

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  send(res, status, JSON_TYPE, JSON.stringify(value) + "\n", headers);
}

/**
 * Entries per turn of the event loop: /devices for 2,000 sessions took 11 ms to build at once
 * (measured), so a big fleet's list goes out in slices, and sessions' packets are handled
 * between them.
 */
const DEVICES_PER_TURN = 256;

/** The list as of now, written slice by slice (chunked); a session that ends meanwhile is still listed as it was. */
function sendDevices(res: ServerResponse, sessions: Session[]): void {
  res.writeHead(200, { "Content-Type": JSON_TYPE, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
  res.write('{"now":' + JSON.stringify(new Date().toISOString()) + ',"count":' + sessions.length + ',"devices":[');
  let next = 0;
  const slice = () => {
    if (res.destroyed) return;
    const end = Math.min(sessions.length, next + DEVICES_PER_TURN);
    let text = "";
    for (let i = next; i < end; i++) text += (i > 0 ? "," : "") + JSON.stringify(deviceEntry(sessions[i]));
    next = end;
    if (next === sessions.length) res.end(text + "]}\n");
    // A client that does not read holds one slice more than the socket's buffer, no more.
    else if (res.write(text)) setImmediate(slice);
    else res.once("drain", slice);
  };
  slice();
}

/** The newest open session called `name` (a device that reconnected may briefly hold two). */
function findSession(server: LightweightSecureServer, name: string): Session | undefined {
  let found: Session | undefined;
  for (const session of server.sessions) if (session.name === name && (!found || session.connectedAt >= found.connectedAt)) found = session;
  return found;
}

function route(server: LightweightSecureServer, metrics: FleetMetrics, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { error: "only GET and HEAD are served" }, { Allow: "GET, HEAD", Connection: "close" });
    return;
  }
  const length = req.headers["content-length"];
  if (req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")) {
    sendJson(res, 413, { error: "requests must not have a body" }, { Connection: "close" });
    return;
  }
  const url = req.url || "/";
  const query = url.indexOf("?");
  const path = query >= 0 ? url.slice(0, query) : url;
  if (path === "/") {
    send(res, 200, "text/html; charset=utf-8", PAGE_HTML, { "Content-Security-Policy": PAGE_CSP, "Referrer-Policy": "no-referrer" });
  } else if (path === "/metrics") {
    metrics.registry.metrics().then(
      (text) => send(res, 200, metrics.registry.contentType, text),
      (error: Error) => sendJson(res, 500, { error: "metrics failed: " + error.message }),
    );
  } else if (path === "/devices") {
    sendDevices(res, server.sessions);
  } else if (path.startsWith("/devices/")) {
    let name: string;
    try {
      name = decodeURIComponent(path.slice("/devices/".length));
    } catch {
      sendJson(res, 400, { error: "the device name is not valid percent-encoding" });
      return;
    }
    const session = findSession(server, name);
    if (session) sendJson(res, 200, deviceEntry(session));
    else sendJson(res, 404, { error: "no open session for device " + JSON.stringify(name), name });
  } else {
    sendJson(res, 404, { error: "not found: try /, /devices, /devices/<name> or /metrics" });
  }
}

/** Starts the live view of `server` on its own HTTP port; resolves once it listens. */
export function startMonitor(server: LightweightSecureServer, options: MonitorOptions = {}): Promise<Monitor> {
  const host = options.host ?? DEFAULT_MONITOR_HOST;
  const stats = fleetStats(server);
  const metrics = createFleetMetrics(stats);
  const http: Server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MONITOR_MAX_HEADER_BYTES,
      headersTimeout: options.headersTimeoutMs ?? DEFAULT_MONITOR_HEADERS_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_MONITOR_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: 5000,
      // How often Node looks for requests past those timeouts (its default is 30 s).
      connectionsCheckingInterval: 500,
    },
    (req, res) => {
      try {
        route(server, metrics, req, res);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
        else res.destroy();
      }
    },
  );
  http.maxConnections = options.maxConnections ?? DEFAULT_MONITOR_MAX_CONNECTIONS;
  http.setTimeout(options.idleTimeoutMs ?? DEFAULT_MONITOR_IDLE_TIMEOUT_MS);
  return new Promise<Monitor>((resolve, reject) => {
    http.once("error", (error) => {
      metrics.detach();
      reject(error);
    });
    http.listen({ host, port: options.port ?? 0 }, () => {
      http.removeAllListeners("error");
      http.on("error", (error) => server.reportError(error));
      const port = (http.address() as AddressInfo).port;
      const shown = host.indexOf(":") >= 0 ? "[" + host + "]" : host;
      resolve({
        host,
        port,
        url: "http://" + shown + ":" + port + "/",
        stats,
        metrics,
        close: () =>
          new Promise<void>((done) => {
            metrics.detach();
            http.close(() => done());
            http.closeAllConnections();
          }),
      });
    });
  });
}
