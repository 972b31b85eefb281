/** The chat webview: draws the host's ViewState, sends user actions back. Runs in the browser. */

import type { Entry, HeaderState, HostMessage, ImageView, ViewMessage, ViewState } from "../../src/messages";
import type { ToolCall } from "../../src/protocol";
import { el, icon } from "./dom";
import { actionButton, renderBody, renderEntry, renderThoughts } from "./entries";
import { shortCount } from "./format";

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  draft: string;
}

const vscode = acquireVsCodeApi();

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`missing #${id}`);
  return node as T;
}

const log = byId<HTMLElement>("log");
const input = byId<HTMLTextAreaElement>("input");
const sendButton = byId<HTMLButtonElement>("send");
const stopButton = byId<HTMLButtonElement>("stop");
const modelSelect = byId<HTMLSelectElement>("model");
const workspaceButton = byId<HTMLButtonElement>("workspace");
const workspaceName = byId<HTMLElement>("workspace-name");
const contextFiles = byId<HTMLElement>("context-files");
const contextUse = byId<HTMLElement>("context-use");
const attachmentList = byId<HTMLUListElement>("attachments");
const notice = byId<HTMLElement>("notice");

let view: ViewState = {
  entries: [],
  busy: false,
  workspaceName: "",
  canSwitchWorkspace: false,
  model: "",
  models: [],
  contextFiles: [],
  attachments: [],
};

function post(message: ViewMessage): void {
  vscode.postMessage(message);
}

function welcome(): HTMLElement {
  const box = el("div", "welcome");
  box.append(icon("sparkle"), el("h2", undefined, "Ask Gemini about your code"));
  box.append(
    el(
      "p",
      undefined,
      "Select code in an editor and run “Gemini: Ask about Selection” (Ctrl+Alt+G) to attach it, then ask a question.",
    ),
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

function renderLog(): void {
  log.replaceChildren(
    ...(view.entries.length === 0 ? [welcome()] : view.entries.map((e) => renderEntry(e, post))),
  );
  scrollToBottom();
}

function renderContextFiles(): void {
  contextFiles.replaceChildren(
    ...view.contextFiles.map((file) => {
      const chip = el("button", "context-chip");
      chip.type = "button";
      chip.title = `${file.path}\nAdded to every message in this folder. Click to open.`;
      chip.append(icon("book"), el("span", undefined, file.name));
      chip.addEventListener("click", () => post({ type: "openFile", path: file.path }));
      return chip;
    }),
  );
  contextFiles.hidden = view.contextFiles.length === 0;
}

function renderContextUse(): void {
  const context = view.context;
  contextUse.hidden = context === undefined;
  if (context === undefined) return;
  contextUse.textContent = `${shortCount(context.used)} / ${shortCount(context.limit)}`;
  contextUse.title =
    `Context window: ${context.used.toLocaleString()} of ${context.limit.toLocaleString()} ` +
    `input tokens used by this conversation (${view.model})`;
  // Past 80 % the daemon starts summarising old exchanges: say so before it happens.
  contextUse.classList.toggle("full", context.used >= 0.8 * context.limit);
}

function renderHeader(): void {
  workspaceName.textContent = view.workspaceName === "" ? "No folder" : view.workspaceName;
  workspaceButton.disabled = !view.canSwitchWorkspace;
  workspaceButton.title = view.canSwitchWorkspace
    ? "Switch workspace folder"
    : "Workspace folder of this conversation";
  const models = view.models.some((m) => m.name === view.model)
    ? view.models
    : [{ name: view.model, label: view.model }, ...view.models];
  modelSelect.replaceChildren(
    ...models.map((m) => {
      const option = el("option", undefined, m.label);
      option.value = m.name;
      option.selected = m.name === view.model;
      return option;
    }),
  );
  modelSelect.title = `Model for this folder: ${view.model}`;
  renderContextFiles();
  renderContextUse();
}

function renderAttachments(): void {
  attachmentList.replaceChildren(
    ...view.attachments.map((name, index) => {
      const item = el("li", "chip");
      item.append(icon("file-code"), el("span", undefined, name));
      const remove = el("button", "chip-remove");
      remove.type = "button";
      remove.title = `Remove ${name}`;
      remove.setAttribute("aria-label", `Remove ${name}`);
      remove.append(icon("close"));
      remove.addEventListener("click", () => post({ type: "removeAttachment", index }));
      item.append(remove);
      return item;
    }),
  );
  attachmentList.hidden = view.attachments.length === 0;
}

function renderNotice(): void {
  notice.replaceChildren();
  notice.hidden = view.notice === undefined;
  if (view.notice === undefined) return;
  const { message, action } = view.notice;
  const warning = icon("warning");
  warning.classList.add("notice-icon");
  notice.append(warning, el("span", undefined, message));
  if (action !== "none") notice.append(actionButton(action, post));
}

function renderBusy(): void {
  sendButton.hidden = view.busy;
  stopButton.hidden = !view.busy;
  document.body.classList.toggle("busy", view.busy);
}

function renderAll(): void {
  renderHeader();
  renderLog();
  renderAttachments();
  renderNotice();
  renderBusy();
}

function entryNode(id: string): HTMLElement | null {
  return log.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"]`);
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

function upsertEntry(entry: Entry): void {
  const stick = nearBottom();
  const index = view.entries.findIndex((e) => e.id === entry.id);
  if (index >= 0) view.entries[index] = entry;
  else view.entries.push(entry);
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
    const entry = view.entries.find((e) => e.id === id);
    const node = entryNode(id);
    if (entry === undefined || node === null) continue;
    const thoughts = node.querySelector<HTMLElement>(".thoughts-body");
    // The first thought creates the block; later ones only refill it, so it stays open or shut.
    if (what.thoughts && thoughts === null) redraw(entry);
    else if (what.thoughts && thoughts !== null) renderThoughts(entry, thoughts);
    const body = node.isConnected ? node.querySelector<HTMLElement>(".entry-body") : null;
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

function applyDelta(id: string, text: string): void {
  const entry = view.entries.find((e) => e.id === id);
  if (entry === undefined) return;
  entry.text += text;
  markDirty(id, "text");
}

function applyThought(id: string, text: string): void {
  const entry = view.entries.find((e) => e.id === id);
  if (entry === undefined) return;
  entry.thoughts = (entry.thoughts ?? "") + text;
  markDirty(id, "thoughts");
}

/** A tool call or an image arrived: rare, so the entry is drawn afresh. */
function applyExtra(id: string, extra: { tool: ToolCall } | { image: ImageView }): void {
  const entry = view.entries.find((e) => e.id === id);
  if (entry === undefined) return;
  if ("tool" in extra) entry.tools = [...(entry.tools ?? []), extra.tool];
  else entry.images = [...(entry.images ?? []), extra.image];
  const stick = nearBottom();
  dirty.delete(id);
  redraw(entry);
  if (stick) scrollToBottom();
}

function applyHeader(header: HeaderState): void {
  const { context, ...rest } = header;
  view = { ...view, ...rest };
  // A header without `context` means it could not be measured: hide the indicator.
  if (context === undefined) delete view.context;
  else view.context = context;
  renderHeader();
}

function onHostMessage(message: HostMessage): void {
  switch (message.type) {
    case "snapshot":
      view = message.state;
      dirty.clear();
      renderAll();
      break;
    case "header":
      applyHeader(message.header);
      break;
    case "delta":
      applyDelta(message.id, message.text);
      break;
    case "thought":
      applyThought(message.id, message.text);
      break;
    case "tool":
      applyExtra(message.id, { tool: message.tool });
      break;
    case "image":
      applyExtra(message.id, { image: message.image });
      break;
    case "entry":
      upsertEntry(message.entry);
      break;
    case "busy":
      view.busy = message.busy;
      renderBusy();
      break;
    case "focusInput":
      input.focus();
      break;
  }
}

function autoresize(): void {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}

function saveDraft(): void {
  const state: SavedState = { draft: input.value };
  vscode.setState(state);
}

function send(): void {
  const text = input.value;
  if (view.busy || (text.trim() === "" && view.attachments.length === 0)) return;
  post({ type: "send", text });
  input.value = "";
  autoresize();
  saveDraft();
}

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  } else if (event.key === "Escape" && view.busy) {
    post({ type: "stop" });
  }
});
input.addEventListener("input", () => {
  autoresize();
  saveDraft();
});
sendButton.addEventListener("click", send);
stopButton.addEventListener("click", () => post({ type: "stop" }));
modelSelect.addEventListener("change", () => post({ type: "selectModel", model: modelSelect.value }));
workspaceButton.addEventListener("click", () => post({ type: "switchWorkspace" }));
window.addEventListener("message", (event: MessageEvent<HostMessage>) => onHostMessage(event.data));

const saved = vscode.getState() as SavedState | undefined;
if (saved !== undefined && typeof saved.draft === "string") input.value = saved.draft;
autoresize();
renderAll();
post({ type: "ready" });
