// Installing the server without a clone, in real VS Code: the packaged .vsix carries the daemon's
// wheel; with no gemini-chat-server anywhere, the extension offers to install it, does (uv tool
// install into a temporary UV_TOOL_DIR / UV_TOOL_BIN_DIR, never the machine's), and chats.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, reply } from "./chatUi.mjs";
import { env, script } from "./helpers.mjs";
import { inVsCode, openGeminiView } from "./vscode.mjs";

/** Command lines of this machine's processes (Linux /proc). */
function commandLines() {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        return "";
      }
    });
}

describe("Installing the server from the .vsix", () => {
  const tmp = join(env("GEMINI_CHAT_TEST_TMP"), "install");
  const tools = join(tmp, "tools");
  const home = join(tmp, "home");
  const toolDir = join(tmp, "uv-tools");
  const binDir = join(tmp, "uv-bin");
  mkdirSync(tools, { recursive: true });
  mkdirSync(home, { recursive: true });
  // uv alone besides the system's /usr/bin and /bin (node, python3): no gemini-chat-server there.
  symlinkSync(env("GEMINI_CHAT_UV"), join(tools, "uv"));
  const installEnv = {
    PATH: `${tools}:/usr/bin:/bin`,
    HOME: home,
    UV_TOOL_DIR: toolDir,
    UV_TOOL_BIN_DIR: binDir,
    UV_CACHE_DIR: process.env.UV_CACHE_DIR ?? join(homedir(), ".cache", "uv"),
    UV_PYTHON_DOWNLOADS: "never",
    XDG_BIN_HOME: undefined,
    XDG_DATA_HOME: undefined,
    PIPX_BIN_DIR: undefined,
  };

  test("with no server anywhere, the offer installs it with uv (progress shown) into UV_TOOL_BIN_DIR, and the chat runs on it", () =>
    inVsCode(
      "install",
      async (session) => {
        const { page, chat } = session;
        const offer = page.locator(".notifications-toasts .notification-toast", { hasText: "was not found" });
        await offer.waitFor({ timeout: 60000 });
        assert.match(await offer.innerText(), /Install it now \(uv tool install\)\?/);
        assert.ok(
          !existsSync(join(binDir, "gemini-chat-server")),
          "nothing installed before the offer is taken",
        );
        // The view offers it too, in place of the chat.
        await openGeminiView(session);
        const notice = chat.locator("#notice");
        await notice.getByRole("button", { name: "Install the Server" }).waitFor({ timeout: 30000 });
        assert.match(await notice.innerText(), /gemini-chat-server, was not found/);
        await offer.getByRole("button", { name: "Install" }).click();
        const progress = page
          .locator(".notifications-toasts .notification-toast", { hasText: "Installing gemini-chat-server" })
          .first();
        await progress.waitFor({ timeout: 15000 });
        // Once it has slid in (the install may be over by then: uv is quick with a warm cache).
        await (await progress.elementHandle())?.waitForElementState("stable").catch(() => undefined);
        await screenshot(page, "vscode-install-progress");
        const done = page.locator(".notifications-toasts", { hasText: "Installed gemini-chat-server" });
        await done.waitFor({ timeout: 180000 });
        assert.ok(existsSync(join(binDir, "gemini-chat-server")), "the server is in UV_TOOL_BIN_DIR");
        assert.ok(existsSync(join(toolDir, "gemini-chat")), "and its environment in UV_TOOL_DIR");
        await notice.waitFor({ state: "hidden", timeout: 30000 });
        await screenshot(page, "vscode-installed");
        await script({ reply: "Served by the installed daemon." });
        await ask(chat, "Who serves this?");
        await reply(chat, "Served by the installed daemon.", 60000);
        const server = join(binDir, "gemini-chat-server");
        assert.ok(
          commandLines().some((line) => line.includes(server)),
          "the running daemon is the installed one",
        );
      },
      { serverPath: null, env: installEnv },
    ));
});
