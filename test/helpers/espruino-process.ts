// The real Espruino interpreter (the Linux build of 2v29 named by the ESPRUINO environment
// variable) as a test drives it: a fresh scratch folder per run (its Storage is the file
// espruino.flash in the working folder), Storage files written by a first short run, the app
// text run as a file, stdin an idle pipe (at end of input the interpreter's console pushes junk
// characters), console lines collected, and the process killed and its folder removed afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The interpreter to run, or undefined when this machine has none (the lane then skips). */
export const ESPRUINO: string | undefined = process.env.ESPRUINO || undefined;
export const SKIPPED_LINE = "espruino lane skipped: ESPRUINO not set";

/** The Storage files of a flashed v1 board, from dist/: the library and its written-out cipher (lwstcp-xtea). */
export function flashedV1Storage(): Record<string, string> {
  const read = (file: string) => readFileSync(new URL(`../../../dist/${file}`, import.meta.url), "latin1");
  return { "lwstcp-xtea": read("lwstcp-xtea.js"), lwstcp: read("lwstcp.js") };
}

/**
 * App text that puts these modules' code in RAM with Modules.addCached, as an ESP32 runs a
 * Storage module from its mapped flash: this Linux build reads a Storage module's code from its
 * flash file 16 bytes at a time (docs/PERFORMANCE.md).
 */
export function cachedModules(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, text]) => `Modules.addCached(${JSON.stringify(name)}, function () {\n${text}\n});\n`)
    .join("");
}

let said = false;
/** In a describe block's before(): skips the block when there is no interpreter, saying so once per run. */
export function skipWithoutEspruino(context: Mocha.Context): void {
  if (ESPRUINO) return;
  if (!said) console.log(SKIPPED_LINE);
  said = true;
  context.skip();
}

export interface EspruinoRun {
  child: ChildProcess;
  dir: string;
  /** Console lines so far (the banner included), without the prompt characters. */
  lines(): string[];
  out(): string;
  /** Resolves with the first line matching `pattern` (already printed or yet to come). */
  waitFor(pattern: RegExp | string, timeoutMs: number): Promise<string>;
  exit: Promise<number | null>;
  /** Kills the process (if still running) and removes its folder. */
  stop(): Promise<void>;
}

const running = new Set<EspruinoRun>();
/** The console's prompt redraw before each printed line: ">", CR, ESC [J. */
const PROMPT = new RegExp("^(>?\\r?" + String.fromCharCode(27) + "\\[J)+");

/** Writes `storage` (name → binary-string contents) into the interpreter's Storage in `dir`. */
async function writeStorage(dir: string, storage: Record<string, string>): Promise<void> {
  const names = Object.keys(storage);
  if (names.length === 0) return;
  const lines = names.map(
    (name) => `require("Storage").write(${JSON.stringify(name)},atob(${JSON.stringify(Buffer.from(storage[name], "latin1").toString("base64"))}));`,
  );
  lines.push(`print("storage written " + require("Storage").list().length);`, "quit();");
  const run = start(dir, lines.join("\n"), "storage.js");
  try {
    await run.waitFor(/^storage written /, 15000);
    await run.exit;
  } finally {
    if (run.child.exitCode === null) run.child.kill("SIGKILL");
    running.delete(run);
  }
}

function start(dir: string, app: string, filename: string): EspruinoRun {
  if (!ESPRUINO) throw new Error(SKIPPED_LINE);
  const file = join(dir, filename);
  writeFileSync(file, app, "latin1");
  // stdin stays an open pipe that is never written: the idle console the interpreter expects.
  const child = spawn(ESPRUINO, [filename], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString("latin1");
    for (const w of waiters.slice()) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  child.stdin?.on("error", () => {});
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exit.then(() => {
    for (const w of waiters.slice()) w();
  });
  // Only whole lines: a chunk may end in the middle of one.
  const lines = () =>
    out
      .slice(0, out.lastIndexOf("\n") + 1)
      .split("\n")
      .map((l) => l.replace(PROMPT, "").replace(/\r$/, "").replace(/^>$/, ""))
      .filter((l) => l !== "");
  const run: EspruinoRun = {
    child,
    dir,
    lines,
    out: () => out,
    exit,
    waitFor(pattern, timeoutMs) {
      const test = (l: string) => (typeof pattern === "string" ? l.includes(pattern) : pattern.test(l));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines().find(test);
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`espruino exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; espruino printed:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(check);
        check();
      });
    },
    async stop() {
      running.delete(run);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exit;
      }
      child.stdin?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(run);
  return run;
}

/**
 * Runs `app` on the interpreter in a fresh folder whose Storage holds `storage` first.
 * The caller stops it (or uses stopEspruinoAfterEach).
 */
export async function runEspruino(app: string, options: { storage?: Record<string, string> } = {}): Promise<EspruinoRun> {
  const dir = mkdtempSync(join(tmpdir(), "lwstcp-espruino-"));
  try {
    await writeStorage(dir, options.storage || {});
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return start(dir, app, "app.js");
}

/** Runs a snippet to its end (it exits when idle, or calls quit()), returning its console lines after the banner and its exit status. */
export async function runSnippet(app: string, timeoutMs = 10000, storage: Record<string, string> = {}): Promise<{ lines: string[]; code: number | null }> {
  const run = await runEspruino(app, { storage });
  const timer = setTimeout(() => run.child.kill("SIGKILL"), timeoutMs);
  try {
    const code = await run.exit;
    return { lines: afterBanner(run.lines()), code };
  } finally {
    clearTimeout(timer);
    await run.stop();
  }
}

/** The console lines after the interpreter's start-up banner. */
export function afterBanner(lines: string[]): string[] {
  const i = lines.findIndex((l) => l.startsWith("http://espruino.com/Donate"));
  return i >= 0 ? lines.slice(i + 1) : lines;
}

/** Stops every interpreter a test started, after each test (call inside a describe block). */
export function stopEspruinoAfterEach(): void {
  afterEach(async () => {
    for (const run of [...running]) await run.stop();
  });
}

// A test run that ends abruptly still leaves no interpreter behind.
process.once("exit", () => {
  for (const run of running) if (run.child.exitCode === null) run.child.kill("SIGKILL");
});
