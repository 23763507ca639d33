// The sensor node: joins Wi-Fi, keeps an lwstcp session to the desktop, sends a reading every few
// seconds, and obeys the desktop's commands. Build it with
//   npx lwstcp-firmware build examples/sensor-node/device/app.ts --out dist/sensor-node.js
// Its settings are the Storage file lwstcp-config.json (config.example.json shows them; lwstcp-flash
// --config uploads them). It survives a server restart (the client reconnects by itself) and a
// Wi-Fi drop (the app joins again, and the client's next retry finds the network back).

interface Settings {
  ssid: string;
  password: string;
  host: string;
  port: number;
  key: string;
  /** Seconds between readings (default 5). */
  every?: number;
  /** The LED's pin number (default 2, the LED of most ESP32 dev boards). */
  led?: number;
}

var WIFI_RETRY_MS = 2000;

function log(text: string): void {
  console.log("sensor-node: " + text);
}

var settings = require("Storage").readJSON("lwstcp-config.json", true) as Settings | undefined;
if (!settings) {
  log("no lwstcp-config.json in Storage: upload one with lwstcp-flash --config");
} else {
  start(settings);
}

function start(config: Settings): void {
  var lw = require("lwstcp");
  var wifi = require("Wifi");
  var bootedAt = getTime();
  var ledPin = config.led === undefined ? 2 : config.led;
  var wifiRetry: number | undefined;
  var started = false;

  lw.setHandshakeKey(config.key);
  pinMode(ledPin, "output");
  digitalWrite(ledPin, 0);

  var client = new lw.LightweightSecureClient(config.host, config.port);
  // Short steps: a restarted server is found again within a second or two.
  client.setAutoReconnect(true, 500, 10000);
  client.setOnHandshakeSuccess(function () {
    log("connected to " + config.host + ":" + config.port);
  });
  client.setOnDisconnected(function (reason) {
    log("session ended: " + reason);
  });
  client.setOnHandshakeFailed(function (reason, detail) {
    log("handshake failed: " + reason + (detail ? " (" + detail + ")" : ""));
  });
  client.setOnMessageReceived(function (message) {
    var command: { led?: unknown; ping?: unknown };
    try {
      command = JSON.parse(message);
    } catch {
      log("not JSON: " + message);
      return;
    }
    if (command.led !== undefined) {
      var on = !!command.led;
      digitalWrite(ledPin, on);
      log("led " + (on ? "on" : "off"));
      client.sendMessage(JSON.stringify({ led: on }));
    }
    if (command.ping !== undefined) client.sendMessage(JSON.stringify({ pong: command.ping }));
  });

  setInterval(
    function () {
      if (!client.isConnected()) return;
      var now = getTime();
      client.sendMessage(JSON.stringify({ t: Math.round(now), temp: E.getTemperature(), uptime: Math.round(now - bootedAt) }));
    },
    (config.every || 5) * 1000,
  );

  function join(): void {
    wifiRetry = undefined;
    wifi.connect(config.ssid, { password: config.password }, function (error) {
      if (error) {
        log("wifi: " + error + ", again in " + WIFI_RETRY_MS / 1000 + " s");
        later();
        return;
      }
      log("wifi up");
      // The first join starts the client; after a drop it is still retrying on its own.
      if (!started) {
        started = true;
        client.connectToServer();
      }
    });
  }
  function later(): void {
    if (wifiRetry === undefined) wifiRetry = setTimeout(join, WIFI_RETRY_MS);
  }
  wifi.on("disconnected", function (details) {
    log("wifi down (" + details.msg + ")");
    later();
  });
  join();
}
