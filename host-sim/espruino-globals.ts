// The global names Espruino 2v29 defines on the ESP32 board, copied from
// ../shared/espruino-globals.json ("esp32_global_names", taken from the symbol table of boards/ESP32.py).
// The simulator deletes every other global V8 puts in a context, and the static check refuses others.
export const ESP32_GLOBAL_NAMES: readonly string[] = [
  "AES", "Array", "ArrayBuffer", "ArrayBufferView", "BTN", "BTN1", "Bluetooth", "BluetoothDevice",
  "BluetoothRemoteGATTCharacteristic", "BluetoothRemoteGATTServer", "BluetoothRemoteGATTService", "Boolean", "DataView", "Date", "E", "ESP32",
  "Error", "File", "Float32Array", "Float64Array", "Function", "Graphics", "HIGH", "I2C",
  "I2C1", "I2C2", "Infinity", "Int16Array", "Int32Array", "Int8Array", "InternalError", "JSON",
  "LED", "LED1", "LOW", "LoopbackA", "LoopbackB", "Math", "Modules", "NRF",
  "NaN", "Number", "Object", "OneWire", "Pin", "Promise", "ReferenceError", "RegExp",
  "SPI", "SPI1", "SPI2", "Serial", "Serial1", "Serial2", "Serial3", "Server",
  "Socket", "StorageFile", "String", "SyntaxError", "Telnet", "TypeError", "Uint16Array", "Uint24Array",
  "Uint32Array", "Uint8Array", "Uint8ClampedArray", "Waveform", "analogRead", "analogWrite", "arguments", "atob",
  "btoa", "changeInterval", "clearInterval", "clearTimeout", "clearWatch", "console", "decodeURIComponent", "dgramSocket",
  "digitalPulse", "digitalRead", "digitalWrite", "dump", "echo", "edit", "encodeURIComponent", "eval",
  "getPinMode", "getSerial", "getTime", "global", "globalThis", "httpCRq", "httpCRs", "httpSRq",
  "httpSRs", "httpSrv", "isFinite", "isNaN", "load", "parseFloat", "parseInt", "peek16",
  "peek32", "peek8", "pinMode", "poke16", "poke32", "poke8", "print", "process",
  "require", "reset", "save", "setBusyIndicator", "setInterval", "setSleepIndicator", "setTime", "setTimeout",
  "setWatch", "shiftOut", "trace", "undefined", "url",
];

/** Modules `require()` answers natively on ESP32 (espruino-globals.json "require_modules.esp32_from_source"). */
export const ESP32_BUILTIN_MODULES: readonly string[] = ["timer", "Flash", "Storage", "heatshrink", "fs", "net", "dgram", "tls", "http", "NetworkJS", "Wifi", "TelnetServer", "crypto", "neopixel"];
