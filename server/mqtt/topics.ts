// The MQTT bridge's topic tree: <prefix>/<device>/up|down|status and <prefix>/$server/<name>.
// A device name comes from the network (a v2 id, or a peer address), so it is escaped into
// exactly one topic level: a "/" would add levels, "+" and "#" are wildcards a broker refuses
// in a published topic, a leading "$" would collide with the bridge's own "$server" level
// (and brokers reserve "$" topics), and control characters have no business in a topic.
// Percent-encoding keeps the common names (kitchen-1, 192.168.1.20:51234) readable as they are.

/** The escaped topic level for a device name; undefined for the empty name (refused). */
export function deviceTopicLevel(name: string): string | undefined {
  if (name === "") return undefined;
  let level = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    const code = name.charCodeAt(i);
    const special = c === "%" || c === "/" || c === "+" || c === "#" || code < 0x20 || code === 0x7f || (i === 0 && c === "$");
    level += special ? "%" + code.toString(16).toUpperCase().padStart(2, "0") : c;
  }
  return level;
}

/**
 * Why `prefix` cannot be a topic prefix, or undefined when it can: one or more levels
 * separated by "/", none empty, no wildcards, no control characters, not starting with "$".
 */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === "") return "must not be empty";
  if (prefix.startsWith("$")) return "must not start with '$' (brokers reserve those topics)";
  if (prefix.split("/").some((level) => level === "")) return "must not have an empty level (a leading, trailing or doubled '/')";
  return wildcardProblem(prefix);
}

/** Why `name` cannot be the server's own topic level, or undefined when it can. */
export function serverNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.includes("/")) return "must be one topic level (no '/')";
  return wildcardProblem(name);
}

function wildcardProblem(text: string): string | undefined {
  if (/[+#]/.test(text)) return "must not contain the MQTT wildcards '+' or '#'";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return "must not contain control characters";
  }
  return undefined;
}

export interface TopicTree {
  up(level: string): string;
  status(level: string): string;
  /** The subscription that catches every device's down topic. */
  readonly allDown: string;
  /** The device level of a down topic, or undefined when `topic` is not one. */
  downLevel(topic: string): string | undefined;
  /** Where this server says online/offline (and its will). */
  readonly serverStatus: string;
}

export function topicTree(prefix: string, serverLevel: string): TopicTree {
  const start = prefix + "/";
  return {
    up: (level) => start + level + "/up",
    status: (level) => start + level + "/status",
    allDown: start + "+/down",
    downLevel: (topic) => {
      if (!topic.startsWith(start) || !topic.endsWith("/down")) return undefined;
      const level = topic.slice(start.length, topic.length - "/down".length);
      return level === "" || level.includes("/") ? undefined : level;
    },
    serverStatus: start + "$server/" + serverLevel,
  };
}
