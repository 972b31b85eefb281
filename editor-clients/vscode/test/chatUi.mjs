// The chat as a user drives it in code-server: ask, wait for a reply, the view's title actions.
import { resetEmulator, waitFor } from "./helpers.mjs";

/** Send `text` from the chat input with Enter; the view empties the input as it sends. */
export async function ask(chat, text) {
  const input = chat.locator("#input");
  await input.fill(text);
  await input.press("Enter");
  // Seen once on a loaded machine, in a window just opened: the Enter did not reach the input
  // and the text stayed there, unsent. While it is there nothing was sent: pressing again
  // cannot send twice.
  await waitFor(
    "the message to leave the input",
    async () => {
      if ((await input.inputValue()) === "") return true;
      await input.press("Enter");
      return false;
    },
    15000,
  );
}

/** Wait for a finished reply containing `text` (the Stop button gone: nothing streams any more). */
export async function reply(chat, text, timeout = 30000) {
  await chat
    .locator(".entry.model:not(.from-other) .entry-body", { hasText: text })
    .last()
    .waitFor({ timeout });
  await chat.locator("#stop").waitFor({ state: "hidden", timeout });
}

/** The natural sizes of the images of a reply, once all `count` are loaded. */
export function imageSizes(replyEntry, count) {
  return waitFor(`${count} images drawn`, () =>
    replyEntry.locator("img.reply-image").evaluateAll((imgs, n) => {
      if (imgs.length !== n || !imgs.every((i) => i.complete && i.naturalWidth > 0)) return false;
      return imgs.map((i) => `${i.naturalWidth}x${i.naturalHeight}`);
    }, count),
  );
}

/** The status bar item whose text contains `text`. */
export const statusItem = (page, text) => page.locator(".statusbar-item", { hasText: text }).first();

/** A button of the Gemini view's title bar (New Chat, History, …). */
export const viewAction = (page, label) =>
  page.locator(`.part.sidebar a.action-label[aria-label="${label}"]:visible`).first();

/**
 * Back to a fresh start in a shared window: no quick input or dialog open, a new conversation,
 * the emulator's script and records empty.
 */
export async function freshChat({ page, chat }) {
  await page.keyboard.press("Escape");
  await viewAction(page, "New Chat").click();
  await chat.locator(".welcome").waitFor({ timeout: 15000 });
  await resetEmulator();
}
