/** The transcript's DOM: drawn whole from the state, then kept up as replies stream in. */

import type { Entry, ImageView } from "../../src/messages";
import type { ToolCall } from "../../src/protocol";
import { el, icon } from "./dom";
import { renderBody, renderEntry, renderThoughts } from "./entries";
import { byId, post, store } from "./state";

const log = byId<HTMLElement>("log");

function welcome(): HTMLElement {
  const box = el("div", "welcome");
  box.append(icon("sparkle"), el("h2", undefined, "Ask Gemini about your code"));
  box.append(
    el(
      "p",
      undefined,
      "Ask a question. For context, select code and press Ctrl+Alt+G, or attach files: the paper clip, #, or Shift+drop.",
    ),
    el("p", undefined, "/image and a prompt draw a picture; { } asks for replies as JSON."),
  );
  return box;
}

function nearBottom(): boolean {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
}

/** Whether the log is kept at its end: true until the user scrolls away, again when back. */
let following = true;
/** Where the script last scrolled to: scroll events that land there are ours, not the user's. */
let scrolledTo = 0;

log.addEventListener("scroll", () => {
  if (log.scrollTop !== scrolledTo) following = nearBottom();
});
// An image that finishes loading grows its entry after the scroll: follow it if the user was.
log.addEventListener(
  "load",
  (event) => {
    if (event.target instanceof HTMLImageElement && following) scrollToBottom();
  },
  true,
);

function scrollToBottom(): void {
  log.scrollTop = log.scrollHeight;
  scrolledTo = log.scrollTop;
  following = true;
}

/** Draw every entry afresh. */
export function renderLog(): void {
  dirty.clear();
  const entries = store.view.entries;
  log.replaceChildren(...(entries.length === 0 ? [welcome()] : entries.map((e) => renderEntry(e, post))));
  scrollToBottom();
}

function entryNode(id: string): HTMLElement | null {
  return log.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"]`);
}

function find(id: string): Entry | undefined {
  return store.view.entries.find((e) => e.id === id);
}

/** Draw an entry afresh, keeping the thoughts open if the user opened them. */
function redraw(entry: Entry): void {
  const existing = entryNode(entry.id);
  const fresh = renderEntry(entry, post);
  if (existing === null) {
    log.querySelector(".welcome")?.remove();
    log.append(fresh);
    return;
  }
  const open = existing.querySelector("details.thoughts")?.hasAttribute("open") === true;
  if (open) fresh.querySelector("details.thoughts")?.setAttribute("open", "");
  existing.replaceWith(fresh);
}

/** An entry changed (or is new): draw it in place. */
export function upsertEntry(entry: Entry): void {
  const stick = nearBottom();
  const entries = store.view.entries;
  const index = entries.findIndex((e) => e.id === entry.id);
  if (index >= 0) entries[index] = entry;
  else entries.push(entry);
  dirty.delete(entry.id);
  redraw(entry);
  if (stick || index < 0) scrollToBottom();
}

/** Entries whose answer or thoughts grew since the last frame. */
const dirty = new Map<string, { text: boolean; thoughts: boolean }>();
let frameRequested = false;

/** Re-render streamed entries at most once a frame; Markdown must be re-parsed as it grows. */
function flushDeltas(): void {
  frameRequested = false;
  const stick = nearBottom();
  for (const [id, what] of dirty) {
    const entry = find(id);
    const node = entryNode(id);
    if (entry === undefined || node === null) continue;
    const thoughts = node.querySelector<HTMLElement>(".thoughts-body");
    // The first thought creates the block; later ones only refill it, so it stays open or shut.
    if (what.thoughts && thoughts === null) redraw(entry);
    else if (what.thoughts && thoughts !== null) renderThoughts(entry, thoughts);
    const fresh = entryNode(id);
    const body = fresh?.querySelector<HTMLElement>(".entry-body") ?? null;
    if (what.text && body !== null) renderBody(entry, body, post);
  }
  dirty.clear();
  if (stick) scrollToBottom();
}

function markDirty(id: string, part: "text" | "thoughts"): void {
  const what = dirty.get(id) ?? { text: false, thoughts: false };
  what[part] = true;
  dirty.set(id, what);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flushDeltas);
  }
}

/** A piece of the reply's answer. */
export function applyDelta(id: string, text: string): void {
  const entry = find(id);
  if (entry === undefined) return;
  entry.text += text;
  markDirty(id, "text");
}

/** A piece of the reply's thoughts. */
export function applyThought(id: string, text: string): void {
  const entry = find(id);
  if (entry === undefined) return;
  entry.thoughts = (entry.thoughts ?? "") + text;
  markDirty(id, "thoughts");
}

/** The whole reply so far (another editor's turn, mirrored). */
export function applyText(id: string, text: string, thoughts: string | undefined): void {
  const entry = find(id);
  if (entry === undefined) return;
  entry.text = text;
  markDirty(id, "text");
  if (thoughts !== undefined && thoughts !== entry.thoughts) {
    entry.thoughts = thoughts;
    markDirty(id, "thoughts");
  }
}

/** A tool call or an image arrived: rare, so the entry is drawn afresh. */
export function applyExtra(id: string, extra: { tool: ToolCall } | { image: ImageView }): void {
  const entry = find(id);
  if (entry === undefined) return;
  if ("tool" in extra) entry.tools = [...(entry.tools ?? []), extra.tool];
  else entry.images = [...(entry.images ?? []), extra.image];
  const stick = nearBottom();
  dirty.delete(id);
  redraw(entry);
  if (stick) scrollToBottom();
}
