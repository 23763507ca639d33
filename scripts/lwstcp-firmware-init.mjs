// `lwstcp-firmware init DIR`: a starter firmware project that builds, simulates and tests with its
// own `npm test` once `npm install` has run: package.json depending on lwstcp, a tsconfig with the
// device types, src/app.ts, config.example.json, a node:test test that boots the app with
// startDevice against an lwstcp server, a README, a .gitignore.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const VERSION = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

/** A key for the starter's own test only: printed in the files, so it guards nothing. */
const TEST_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

const APP = `// Your device app (Espruino 2v29 on ESP32). Build: npm run build → dist/app.js.
// Settings come from the Storage file lwstcp-config.json (config.example.json; lwstcp-flash --config uploads it).

interface Settings {
  ssid: string;
  password: string;
  host: string;
  port: number;
  key: string;
  /** Seconds between readings. */
  every?: number;
}

var config = require("Storage").readJSON("lwstcp-config.json", true) as Settings | undefined;
if (config) main(config);
else print("no lwstcp-config.json: upload one with lwstcp-flash --config");

function main(settings: Settings): void {
  var lw = require("lwstcp");
  lw.setHandshakeKey(settings.key);
  var client = new lw.LightweightSecureClient(settings.host, settings.port);
  client.setOnHandshakeSuccess(function () {
    print("connected");
  });
  client.setOnMessageReceived(function (message) {
    var command = JSON.parse(message);
    if (command.led !== undefined) digitalWrite(D2, !!command.led);
  });
  setInterval(function () {
    if (client.isConnected()) client.sendMessage(JSON.stringify({ temp: E.getTemperature(), uptime: Math.round(getTime()) }));
  }, (settings.every || 5) * 1000);
  require("Wifi").connect(settings.ssid, { password: settings.password }, function (error) {
    if (error) print("wifi: " + error);
    else client.connectToServer();
  });
}
`;

const TEST = `// The app on a simulated ESP32 against an lwstcp server on 127.0.0.1: a reading arrives, and a
// command switches the LED pin. Run: npm test (it builds first).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LightweightSecureServer } from "lwstcp";
import { startDevice } from "lwstcp/sim";

const KEY = "${TEST_KEY}";

test("sends readings and obeys {led}", async () => {
  const server = new LightweightSecureServer(0, { host: "127.0.0.1", key: KEY });
  const readings = [];
  let session;
  server.setOnHandshakeSuccess((_result, s) => {
    session = s;
    s.setOnMessageReceived((text) => readings.push(JSON.parse(text)));
  });
  await server.start();
  const device = await startDevice({
    app: "dist/app.js",
    config: { ssid: "lab", password: "pw", host: "127.0.0.1", port: server.port, key: KEY, every: 0.2 },
    temperature: 70,
  });
  try {
    await device.waitForEvent("handshake");
    await device.waitForEvent("message-sent");
    while (readings.length === 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal(readings[0].temp, 70);

    session.sendMessage(JSON.stringify({ led: true }));
    await device.waitForEvent("message-received");
    assert.deepEqual(device.pinWrites("D2").map((w) => w.value), [1]);
    assert.ok(device.jsVars().now < device.jsVars().budget);
  } finally {
    device.stop();
    await server.stop();
  }
});
`;

/**
 * Writes the starter into `dir` (which must not exist or be empty); returns the files written.
 * @param {string} dir
 * @returns {string[]}
 */
export function writeStarter(dir) {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(dir + " exists and is not empty: give a new directory");
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-._]/g, "-");
  const files = {
    "package.json":
      JSON.stringify(
        {
          name,
          version: "0.1.0",
          private: true,
          type: "module",
          scripts: {
            build: "lwstcp-firmware build src/app.ts --out dist/app.js",
            test: "npm run build && node --test test/",
            sim: "lwstcp-sim --app dist/app.js --config config.json",
            flash: "lwstcp-flash --app dist/app.js --config config.json",
          },
          dependencies: { lwstcp: "^" + VERSION },
        },
        null,
        2,
      ) + "\n",
    "tsconfig.json":
      JSON.stringify({ compilerOptions: { target: "es5", strict: true, noEmit: true, types: ["lwstcp/device"] }, include: ["src"] }, null, 2) + "\n",
    "src/app.ts": APP,
    "test/app.test.mjs": TEST,
    "config.example.json":
      JSON.stringify(
        { ssid: "your-wifi-name", password: "your-wifi-password", host: "192.168.1.10", port: 12345, key: "<64 hex digits: openssl rand -hex 32>", every: 5 },
        null,
        2,
      ) + "\n",
    ".gitignore": "node_modules/\ndist/\nconfig.json\n",
    "README.md": `# ${name}

ESP32 firmware in TypeScript on [lwstcp](https://www.npmjs.com/package/lwstcp) (Espruino 2v29).

\`\`\`sh
npm install
npm test                  # builds dist/app.js, then runs it on a simulated ESP32 against an lwstcp server
cp config.example.json config.json   # your Wi-Fi, the desktop's address, your key
npm run sim               # the app on the simulator with config.json, against your running server
npm run flash -- --port /dev/ttyUSB0 --save   # the library, config.json and the app onto a board
\`\`\`

- \`src/app.ts\` is device code: \`tsconfig.json\` gives it the device's types (\`"types": ["lwstcp/device"]\`),
  so what the ESP32 lacks (Map, Set, the DOM, Node) is a type error. \`npm run build\` runs
  \`lwstcp-firmware build\`: TypeScript → ES5 → terser → hoisting → Espruino check; errors point at your lines.
- \`test/\` runs on Node: \`startDevice\` from \`lwstcp/sim\` boots \`dist/app.js\` with a config and
  scripted pins, and reads the pin writes, console lines and library events.
- The desktop side: \`npx lwstcp-server --help\`, or \`import { LightweightSecureServer } from "lwstcp"\`.
`,
  };
  const written = [];
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}
