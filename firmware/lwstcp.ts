// The device library: what `require("lwstcp")` gives on Espruino. The names follow the C++
// LightweightSecureTCP library and our desktop one, so sketches port line by line:
//
//   var lw = require("lwstcp");
//   lw.setHandshakeKey("<64 hex digits>");          // or eight u32 words
//   var c = new lw.LightweightSecureClient("192.168.1.10", 12345);
//   c.setOnHandshakeSuccess(function () { c.sendMessage("1"); });
//   c.setOnMessageReceived(function (text) { print(text); });
//   c.connectToServer();
//
// Callbacks are plain synchronous slots, not `.emit` (Espruino's emit is asynchronous and
// takes at most 4 arguments). An exception thrown by a callback is caught and printed so the
// protocol state stays intact. Messages arrive as binary strings of their bytes (ESP32
// Espruino has no Unicode strings); sendMessage takes such a string or a Uint8Array.
//
// The bundle must stay under 16 KB (the device parses it into RAM), so the many one-line
// setters (setOnX, and the settings shared by client and server) are made by a loop over
// their names instead of being written out; the interfaces below give them their types.
//
// The pieces: device/settings.ts (module-wide settings, what client and server share),
// device/client.ts, device/server.ts (the server and its sessions).

export { LightweightSecureClient } from "./device/client.js";
export { type HandshakeResult, LightweightSecureServer, Session } from "./device/server.js";
export { setDeviceId, setHandshakeKey, setNumberOfRounds, setProfile } from "./device/settings.js";
