// Headless Debian chromium (driven by playwright-core) types a message into weft's web
// chat page and sees the answer arrive streamed (several updates of the reply bubble).
// Usage: node browser.test.mjs <path of weft> [screenshot.png]
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importOrSkip, startWeft } from "./weft_server.mjs";

const browserPath = process.env.WEFT_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(browserPath)) {
  console.log(`SKIP: ${browserPath} not found (apt-get install chromium)`);
  process.exit(77);
}
const { chromium } = await importOrSkip("playwright-core");
const server = await startWeft(process.argv[2]);
const profile = mkdtempSync(join(tmpdir(), "weft-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(server.url)) external.push(r.url()); });
  await page.goto(server.url + "/");
  await page.fill("#max_tokens", "40");
  await page.dispatchEvent("#max_tokens", "change");
  // Count how often the reply bubble's text changes while it streams.
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver(() => {
      const b = document.querySelector(".msg.assistant[data-streaming]");
      if (b && b.textContent.length) window.__updates++;
    }).observe(document.getElementById("log"), { subtree: true, childList: true, characterData: true });
  });
  await page.fill("#input", "Hello, weft!");
  await page.press("#input", "Enter");
  await page.waitForSelector(".msg.assistant[data-done]", { timeout: 60000 });
  const reply = await page.textContent(".msg.assistant");
  const updates = await page.evaluate(() => window.__updates);
  assert.ok(reply.length > 0, "the reply is empty");
  assert.ok(updates >= 2, `expected a streamed reply (several updates), saw ${updates}`);
  assert.equal(await page.locator(".msg.error").count(), 0);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("weft.messages")));
  assert.equal(stored.length, 2);
  assert.equal(stored[0].content, "Hello, weft!");
  assert.deepEqual(external, [], "the page must not load anything from elsewhere");
  if (process.argv[3]) await page.screenshot({ path: process.argv[3] });
  console.log(`browser OK: ${updates} streamed updates, reply "${reply.slice(0, 50)}"`);
} finally {
  if (context) await context.close();
  server.stop();
  rmSync(profile, { recursive: true, force: true });
}
