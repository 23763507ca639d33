// Instructions per 8-byte block of each device cipher form on the real interpreter, counted by
// valgrind's callgrind: deterministic, whatever else the machine is doing, where getTime() on a
// shared machine moves by tens of percent. The interpreter binary is stripped, so the count is
// taken by difference: one script ciphers 1 block, the same script 17, and a block is
// (count17 − count1) / 16 — start-up, parsing and the per-call work cancel out.
// Forms, all 32 rounds, encryption (and lwstcp-xtea decrypting too): lwstcp-xtea (what `npm run flash` puts beside the library),
// the library's own loop (dist/lwstcp.js without lwstcp-xtea), and the straightforward form as
// written and minified by terser (bench/device/xtea-straightforward.js).
// Needs ESPRUINO and valgrind; `node bench/device-instructions.mjs` prints the table.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleCipherScript } from "./device-ops.mjs";

const root = new URL("../", import.meta.url);
const KEY_WORDS = "[0x12345678,0x9abcdef0,0x13572468,0xacebdf01,0x11223344,0x55667788,0x99aabbcc,0xddeeff00]";

/** Whether this machine can count: an interpreter named by ESPRUINO and valgrind on the PATH. */
export function canCountInstructions() {
  return !!process.env.ESPRUINO && spawnSync("valgrind", ["--version"]).status === 0;
}

async function formScripts() {
  const { minify } = await import("terser");
  const straight = readFileSync(new URL("bench/device/xtea-straightforward.js", root), "utf8");
  const minified = (await minify(straight, { ecma: 5, toplevel: false, compress: { passes: 2 }, mangle: true, format: { comments: false } })).code;
  const unrolled = readFileSync(new URL("dist/lwstcp-xtea.js", root), "latin1");
  const loop = bundleCipherScript(readFileSync(new URL("dist/lwstcp.js", root), "latin1"));
  return {
    "lwstcp-xtea": `var xtea = (function () { var exports = {};\n${unrolled}\nreturn exports; })();\nvar run = function () { xtea.cipher(words, buf, 0, buf.length, false); };`,
    "lwstcp-xtea, decrypting": `var xtea = (function () { var exports = {};\n${unrolled}\nreturn exports; })();\nvar run = function () { xtea.cipher(words, buf, 0, buf.length, true); };`,
    "library loop": `${loop}\nvar run = function () { xteaEncrypt(words, buf, 0, buf.length); };`,
    straightforward: `var straight = (function () { ${straight}\nreturn encryptBlocks; })();\nvar run = function () { straight(key, 32, buf, 0, buf.length); };`,
    "straightforward minified": `var straight = (function () { ${minified}\nreturn encryptBlocks; })();\nvar run = function () { straight(key, 32, buf, 0, buf.length); };`,
  };
}

function script(form, blocks) {
  return `${form}
var key = new Uint32Array(${KEY_WORDS}), words = new Uint32Array(64), sum = 0;
for (var i = 0; i < 64; i += 2) { words[i] = sum + key[sum & 7]; sum = (sum + 0x9e3779b9) >>> 0; words[i + 1] = sum + key[(sum >>> 11) & 7]; }
var buf = new Uint8Array(${8 * blocks});
run();
print("first block " + E.toString(buf.subarray(0, 8)).split("").map(function (c) { return c.charCodeAt(0); }).join(","));
quit();`;
}

function count(dir, text) {
  writeFileSync(join(dir, "form.js"), text);
  // stdin stays an open, idle pipe: at end of input the interpreter's console thread misbehaves.
  const child = spawn("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", String(process.env.ESPRUINO), "form.js"], { cwd: dir });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120000);
  return new Promise((resolve, reject) => {
    child.on("close", () => {
      clearTimeout(timer);
      child.stdin.destroy();
      const collected = /Collected : (\d+)/.exec(stderr);
      const block = /first block ([\d,]+)/.exec(stdout);
      if (!collected || !block) reject(new Error("callgrind run failed: " + (stderr + stdout).slice(-400)));
      else resolve({ instructions: Number(collected[1]), firstBlock: block[1] });
    });
  });
}

/** Instructions per block of every form, and each form's first ciphertext block (all must agree). */
export async function countCipherInstructions() {
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-instructions-"));
  try {
    const out = {};
    for (const [name, form] of Object.entries(await formScripts())) {
      const one = await count(dir, script(form, 1));
      const many = await count(dir, script(form, 17));
      out[name] = { perBlock: Math.round((many.instructions - one.instructions) / 16), firstBlock: one.firstBlock };
    }
    const blocks = new Set(Object.entries(out).flatMap(([name, f]) => (name.includes("decrypting") ? [] : [f.firstBlock])));
    if (blocks.size !== 1) throw new Error("the forms disagree on the ciphertext: " + JSON.stringify(out));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && process.argv[1].endsWith("device-instructions.mjs")) {
  if (!canCountInstructions()) {
    console.error("device-instructions: needs ESPRUINO (an Espruino interpreter) and valgrind");
    process.exit(2);
  }
  const forms = await countCipherInstructions();
  const base = forms["straightforward minified"].perBlock;
  console.table(
    Object.fromEntries(
      Object.entries(forms).map(([k, v]) => [k, { "instructions/block": v.perBlock, "vs straightforward minified": +(base / v.perBlock).toFixed(2) }]),
    ),
  );
}
