// lwstcp-server's --mqtt flags: their rows in the help table and the bridge options they make.
// The password comes from a file (read once, trimmed) so it is not in `ps` or shell history.

import { type FlagSpec, type Flags, readFlagFile, UsageError } from "../cli/args.js";
import { checkMqttBridgeOptions, DEFAULT_MQTT_PREFIX, type MqttBridgeOptions } from "./bridge.js";

export const MQTT_FLAG_SPECS: FlagSpec[] = [
  { name: "mqtt", value: "URL", help: "bridge to an MQTT broker, mqtt://HOST:PORT (see docs/MQTT.md)" },
  { name: "mqtt-prefix", value: "P", help: "first topic level(s): P/<device>/up|down|status", default: DEFAULT_MQTT_PREFIX },
  { name: "mqtt-name", value: "NAME", help: "this server's name in P/$server/NAME and its client id; unique per broker", default: "HOSTNAME:PORT" },
  { name: "mqtt-username", value: "U", help: "broker username" },
  { name: "mqtt-password-file", value: "F", help: "file holding the broker password (needs --mqtt-username)" },
];

const FLAG_OF: Record<string, string> = { url: "mqtt", prefix: "mqtt-prefix", "server name": "mqtt-name" };

/** The bridge options from the flags, or undefined without --mqtt; a flag that needs --mqtt without it is a UsageError. */
export function mqttOptionsFromFlags(flags: Flags): Omit<MqttBridgeOptions, "log"> | undefined {
  const url = flags.get("mqtt");
  if (url === undefined) {
    const stray = MQTT_FLAG_SPECS.find((spec) => spec.name !== "mqtt" && flags.has(spec.name));
    if (stray) throw new UsageError("--" + stray.name + " needs --mqtt URL");
    return undefined;
  }
  const username = flags.get("mqtt-username");
  const passwordFile = flags.get("mqtt-password-file");
  if (passwordFile !== undefined && username === undefined) throw new UsageError("--mqtt-password-file needs --mqtt-username");
  let password: string | undefined;
  if (passwordFile !== undefined) {
    password = readFlagFile("mqtt-password-file", passwordFile).toString("utf8").trim();
    if (password === "") throw new UsageError("--mqtt-password-file " + passwordFile + " is empty");
  }
  const options = { url, prefix: flags.get("mqtt-prefix"), name: flags.get("mqtt-name"), username, password };
  try {
    checkMqttBridgeOptions(options);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^mqtt (url|prefix|server name)/, (_all, what: string) => "--" + FLAG_OF[what]));
  }
  return options;
}
