// require("Wifi") as on ESP32 (ESPRUINO.md §8), with a script for tests: which access point exists,
// failures to inject on the next connects, and a link drop mid-session.
import type { DeviceCore } from "./core.js";

export interface WifiScript {
  /** The access point in range (default "lwstcp-ap" / "lwstcp-password"). */
  ssid?: string;
  password?: string;
  /** Reason strings the next connect attempts fail with, in order (e.g. ["AUTH_FAIL"]). */
  failures?: string[];
  /** Time from connect() to the callback (default 30 ms). */
  connectDelayMs?: number;
  /** Already associated at boot (Wifi.save()d credentials auto-connect). Default false. */
  connectedAtBoot?: boolean;
  ip?: string;
}

/** Test hooks to act on a device's Wi-Fi from outside. */
export interface WifiHooks {
  /** The link goes down: `disconnected` is emitted and every open socket dies as on a real link loss. */
  dropLink(reason?: { code: number; msg: string }): void;
  /** Queues failures for the next connect attempts. */
  failNextConnects(...reasons: string[]): void;
  readonly connected: boolean;
}

const DISCONNECT_REASONS: Record<string, number> = { AUTH_FAIL: 202, NO_AP_FOUND: 201, BEACON_TIMEOUT: 200, ASSOC_LEAVE: 8 };

export function createWifiModule(core: DeviceCore, script: WifiScript = {}): { module: object; hooks: WifiHooks } {
  const ap = { ssid: script.ssid ?? "lwstcp-ap", password: script.password ?? "lwstcp-password" };
  const failures = [...(script.failures ?? [])];
  const delay = script.connectDelayMs ?? 30;
  const mac =
    "24:0a:c4:" +
    [0, 0, 0]
      .map(() =>
        Math.floor(Math.random() * 256)
          .toString(16)
          .padStart(2, "0"),
      )
      .join(":");
  // Distinct addresses per device name, so logs of many devices can be told apart.
  let nameHash = 0;
  for (const c of core.name) nameHash = (nameHash * 31 + c.charCodeAt(0)) >>> 0;
  const ip = script.ip ?? `192.168.4.${2 + (nameHash % 250)}`;
  let connected = script.connectedAtBoot ?? false;
  let currentSsid = connected ? ap.ssid : "";
  let station = connected ? "connected" : "off";
  const module = new core.intrinsics.Object() as Record<string, unknown> & { emit: Function };
  const O = () => new core.intrinsics.Object() as Record<string, unknown>;
  const emit = (event: string, info: Record<string, unknown>) => module.emit(event, info);

  const disconnectedInfo = (reason: string) => Object.assign(O(), { ssid: currentSsid, mac, reason: String(DISCONNECT_REASONS[reason] ?? 0), msg: reason });

  Object.assign(module, {
    connect(ssid: unknown, options: unknown, callback?: unknown) {
      const password = (options as { password?: unknown } | undefined)?.password;
      if (password !== undefined && typeof password !== "string") throw new core.intrinsics.Error("Expecting password to be a string");
      if (String(ssid).length > 32) throw new core.intrinsics.Error("SSID too long");
      station = "connecting";
      setTimeout(() => {
        if (core.loop.isStopped) return;
        let reason = failures.shift();
        if (!reason && String(ssid) !== ap.ssid) reason = "NO_AP_FOUND";
        if (!reason && (password ?? "") !== ap.password) reason = "AUTH_FAIL";
        if (reason) {
          connected = false;
          station = reason;
          currentSsid = String(ssid);
          emit("disconnected", disconnectedInfo(reason));
        } else {
          connected = true;
          station = "connected";
          currentSsid = ap.ssid;
          emit("associated", Object.assign(O(), { ssid: ap.ssid, mac, channel: "6" }));
          emit("connected", Object.assign(O(), { ip, netmask: "255.255.255.0", gw: "192.168.4.1" }));
        }
        if (typeof callback === "function") core.loop.enqueue(() => core.loop.invoke(callback, undefined, [reason ?? null]));
      }, delay);
    },
    disconnect(callback?: unknown) {
      const was = connected;
      connected = false;
      station = "off";
      if (was) emit("disconnected", disconnectedInfo("ASSOC_LEAVE"));
      for (const r of [...core.resources]) r.linkLost?.();
      if (typeof callback === "function") core.loop.enqueue(() => core.loop.invoke(callback, undefined, []));
    },
    getIP(callback?: unknown) {
      const info = connected ? Object.assign(O(), { ip, netmask: "255.255.255.0", gw: "192.168.4.1", mac }) : Object.assign(O(), { mac });
      if (typeof callback === "function") core.loop.enqueue(() => core.loop.invoke(callback, undefined, [null, info]));
      return info;
    },
    getStatus() {
      return Object.assign(O(), { station, ssid: currentSsid, mode: "sta", rssi: connected ? -55 : 0, powersave: "none" });
    },
    setConfig() {
      return undefined;
    },
    save() {
      return undefined;
    },
    restore() {
      return undefined;
    },
  });

  const hooks: WifiHooks = {
    dropLink(reason = { code: 200, msg: "BEACON_TIMEOUT" }) {
      if (!connected) return;
      connected = false;
      station = reason.msg;
      emit("disconnected", Object.assign(O(), { ssid: currentSsid, mac, reason: String(reason.code), msg: reason.msg }));
      for (const r of [...core.resources]) r.linkLost?.();
    },
    failNextConnects(...reasons) {
      failures.push(...reasons);
    },
    get connected() {
      return connected;
    },
  };
  return { module, hooks };
}
