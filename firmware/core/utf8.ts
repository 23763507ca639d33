// UTF-8 for message text: Espruino has no TextEncoder/TextDecoder. On ESP32 builds strings
// are already bytes (no Unicode support), so device code sends byte strings as they are
// and uses these only where a string holds real Unicode (Node, Espruino's Linux build).

/** Number of UTF-8 bytes `text` encodes to (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Writes the UTF-8 encoding of `text` into `out` at `at`; returns the number of bytes written. */
export function encodeUtf8(text: string, out: Uint8Array, at: number): number {
  let p = at;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && isLowSurrogate(next)) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 63);
          out[p++] = 0x80 | ((c >> 6) & 63);
          out[p++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 63);
      out[p++] = 0x80 | (c & 63);
    }
  }
  return p - at;
}

/**
 * Decodes UTF-8 bytes. Malformed input becomes U+FFFD exactly as the WHATWG decoder (and so
 * Node and browsers) does it: one replacement per maximal invalid subsequence.
 */
export function decodeUtf8(buf: Uint8Array, at: number, length: number): string {
  let out = "";
  let codePoint = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  const end = at + length;
  for (let p = at; p < end; p++) {
    const b = buf[p];
    if (needed === 0) {
      if (b < 0x80) out += String.fromCharCode(b);
      else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        codePoint = b & 31;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        codePoint = b & 15;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        codePoint = b & 7;
      } else out += "\ufffd";
      continue;
    }
    if (b < lower || b > upper) {
      // The sequence broke off: replace what was seen and read this byte afresh.
      out += "\ufffd";
      needed = seen = codePoint = 0;
      lower = 0x80;
      upper = 0xbf;
      p--;
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    codePoint = (codePoint << 6) | (b & 63);
    if (++seen === needed) {
      if (codePoint >= 0x10000) {
        codePoint -= 0x10000;
        out += String.fromCharCode(0xd800 + (codePoint >> 10), 0xdc00 + (codePoint & 1023));
      } else out += String.fromCharCode(codePoint);
      needed = seen = codePoint = 0;
    }
  }
  if (needed) out += "\ufffd";
  return out;
}
