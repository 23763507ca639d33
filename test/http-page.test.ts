// The live page in a real headless Chromium (Debian's chromium, driven by playwright-core; no
// browser download): it lists simulated boards as they connect, with their count, drops one that
// disconnects, shows a device name full of HTML as plain text, and fits a phone's width. The
// names come from the boards themselves (each announces one, which the test's server takes as
// its device id, as profile v2's identity does): device-controlled text, as in the field.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SimulatedDevice, startDevice } from "lwstcp/sim";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type LightweightSecureServer, type Monitor, type Session, startMonitor } from "../server/index.js";
import { HELLO_APP, helloConfig } from "./helpers/http.js";
import { KEY_HEX, startServer } from "./helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const DIR = join("build", "test", "http-page");
const HOSTILE = '<img src=x onerror="window.__injected=1"><b>bold</b> & "quotes"';

/** The page's device names and count, as a person sees them. */
async function shown(page: Page): Promise<{ count: string; names: string[] }> {
  return {
    count: (await page.textContent("#count")) ?? "",
    names: await page.$$eval("#devices td.name", (cells) => cells.map((c) => c.textContent ?? "").sort()),
  };
}

async function untilShown(page: Page, expected: string[], what: string): Promise<void> {
  const want = JSON.stringify({ count: String(expected.length), names: [...expected].sort() });
  let last = "";
  const deadline = Date.now() + 15000;
  while ((last = JSON.stringify(await shown(page))) !== want) {
    if (Date.now() > deadline) throw new Error("timed out waiting until the page shows " + what + ": wanted " + want + ", it shows " + last);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the live page in headless Chromium", function () {
  this.timeout(30000);
  let server: LightweightSecureServer | undefined;
  let monitor: Monitor | undefined;
  let context: BrowserContext | undefined;
  let profileDir = "";
  const devices: SimulatedDevice[] = [];

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.log("    skipped: no Chromium at " + CHROMIUM + " (Debian's chromium package; .ci/run installs it)");
      this.skip();
    }
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "app.js"), HELLO_APP);
  });
  after(async () => {
    for (const d of devices.splice(0)) d.stop();
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await monitor?.close();
    await server?.stop();
    rmSync(DIR, { recursive: true, force: true });
  });

  it("shows boards as they connect and disconnect, with the count, names as text, on a phone-sized screen", async () => {
    server = await startServer();
    // A board's announced name becomes its device id, so the page names it by that.
    server.on("session", (session: Session) => {
      session.on("message", (text: string) => {
        if (text.startsWith("name ")) session.deviceId = text.slice(5);
      });
    });
    monitor = await startMonitor(server);
    profileDir = mkdtempSync(join(tmpdir(), "lwstcp-chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push("page error: " + error.message));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push("console error: " + message.text());
    });
    await page.goto(monitor.url);
    await untilShown(page, [], "no devices");
    assert.equal(await page.isVisible("#empty"), true);

    const names = ["kitchen-1", "garage", HOSTILE];
    for (const [i, name] of names.entries()) {
      const config = helloConfig(server.port, KEY_HEX, "name " + name);
      devices.push(await startDevice({ app: join(DIR, "app.js"), config, name: "board" + i }));
    }
    await untilShown(page, names, "three boards");
    assert.equal(await page.isVisible("#empty"), false);
    assert.equal(await page.textContent("#profiles"), "v1 3, v2 0");
    // The hostile name is text: no element came from it and its script did not run.
    assert.equal(await page.$$eval("#devices td.name img, #devices td.name b", (found) => found.length), 0);
    assert.equal(await page.evaluate("window.__injected"), undefined);
    // Readable on a phone: nothing wider than the screen.
    assert.ok(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");
    const seen = await page.$$eval("#devices td.seen", (cells) => cells.map((c) => c.textContent ?? ""));
    for (const text of seen) assert.match(text, /^\d+ s ago$/);

    devices[1].stop();
    await untilShown(page, ["kitchen-1", HOSTILE], "the garage board gone");
    assert.deepEqual(problems, []);
  });
});
