// The sensor nodes' desktop: an lwstcp server that prints every reading and sends what you type to a
// device. Each device that completes the handshake gets a number (1, 2, …) for this run.
//   node build/examples/sensor-node/desktop/server.js --port 12345 --key <64 hex digits>   (or LWSTCP_KEY)
// then type, one per line:
//   1 {"led":true}      send the JSON to device 1
//   all {"ping":1}      send it to every device
//   list                the devices connected now
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { LightweightSecureServer, type Session } from "lwstcp";

const { values } = parseArgs({
  options: { port: { type: "string", default: "12345" }, host: { type: "string", default: "0.0.0.0" }, key: { type: "string" } },
});
const key = values.key ?? process.env.LWSTCP_KEY;
if (!key) {
  console.error("sensor-desktop: give the devices' key with --key or LWSTCP_KEY");
  process.exit(2);
}
const port = Number(values.port);

const devices = new Map<number, Session>();
let nextId = 1;

const server = new LightweightSecureServer(port, { host: values.host, key });
server.setOnHandshakeSuccess((_result, session) => {
  const id = nextId++;
  devices.set(id, session);
  console.log(`device ${id} connected from ${session.peer}`);
  session.setOnMessageReceived((text) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text);
    } catch {
      console.log(`device ${id}: not JSON: ${text}`);
      return;
    }
    if (typeof message.temp === "number") console.log(`reading ${id} ${JSON.stringify(message)}`);
    else console.log(`device ${id}: ${JSON.stringify(message)}`);
  });
  session.setOnSessionEnded((reason) => {
    devices.delete(id);
    console.log(`device ${id} left: ${reason}`);
  });
});
server.setOnHandshakeFailed((result) => console.log(`handshake from ${result.peer} failed: ${result.reason}`));

function command(line: string): void {
  const text = line.trim();
  if (text === "") return;
  if (text === "list") {
    console.log(devices.size ? [...devices].map(([id, s]) => `device ${id} at ${s.peer}`).join("\n") : "no devices");
    return;
  }
  const space = text.indexOf(" ");
  const target = space < 0 ? text : text.slice(0, space);
  const json = space < 0 ? "" : text.slice(space + 1).trim();
  try {
    JSON.parse(json);
  } catch {
    console.log(`not sent: '${json}' is not JSON (type: <device number|all> <json>)`);
    return;
  }
  const chosen = target === "all" ? [...devices.values()] : devices.has(Number(target)) ? [devices.get(Number(target)) as Session] : [];
  if (chosen.length === 0) console.log(`not sent: no device ${target} (type list)`);
  for (const session of chosen) session.sendMessage(json);
}

await server.start();
console.log(`listening on ${values.host}:${server.port}`);
const input = createInterface({ input: process.stdin });
input.on("line", command);
const stop = () => {
  input.close();
  void server.stop().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
