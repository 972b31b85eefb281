// Headless Debian Chromium through playwright-core, and where screenshots go.
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.GEMINI_CHAT_CHROMIUM ?? "/usr/bin/chromium";

/** A fresh persistent Chromium context (its own profile dir). */
export async function launchBrowser(viewport = { width: 420, height: 720 }) {
  const profile = mkdtempSync(join(tmpdir(), "gemini-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Save a screenshot into test-artifacts, and into the README's media when asked to. */
export async function screenshot(target, name, { artifactOnly = false } = {}) {
  const artifacts = process.env.GEMINI_CHAT_ARTIFACTS ?? join(tmpdir(), "gemini-artifacts");
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, `${name}.png`);
  await target.screenshot({ path: file });
  if (
    !artifactOnly &&
    process.env.GEMINI_CHAT_UPDATE_SCREENSHOTS === "1" &&
    process.env.GEMINI_CHAT_SCREENSHOTS
  ) {
    mkdirSync(process.env.GEMINI_CHAT_SCREENSHOTS, { recursive: true });
    copyFileSync(file, join(process.env.GEMINI_CHAT_SCREENSHOTS, `${name}.png`));
  }
  return file;
}
