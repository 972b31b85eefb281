/** The chat webview: draws the host's ViewState, sends user actions back. Runs in the browser. */

import type { ErrorAction } from "../api";
import type { Entry, HostMessage, ViewMessage, ViewState } from "../messages";
import type { Usage } from "../protocol";
import { renderMarkdown } from "./render";

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
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

const log = byId<HTMLElement>("log");
const input = byId<HTMLTextAreaElement>("input");
const sendButton = byId<HTMLButtonElement>("send");
const stopButton = byId<HTMLButtonElement>("stop");
const modelSelect = byId<HTMLSelectElement>("model");
const workspaceButton = byId<HTMLButtonElement>("workspace");
const workspaceName = byId<HTMLElement>("workspace-name");
const attachmentList = byId<HTMLUListElement>("attachments");
const notice = byId<HTMLElement>("notice");

let view: ViewState = {
  entries: [],
  busy: false,
  workspaceName: "",
  canSwitchWorkspace: false,
  model: "",
  models: [],
  attachments: [],
};

const ACTION_LABELS: Record<ErrorAction, string> = {
  setApiKey: "Set API Key",
  selectModel: "Select Model",
  retry: "Retry",
  showLog: "Show Log",
  openSettings: "Open Settings",
  none: "",
};

function post(message: ViewMessage): void {
  vscode.postMessage(message);
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name: string): HTMLElement {
  const span = el("span", `codicon codicon-${name}`);
  span.setAttribute("aria-hidden", "true");
  return span;
}

function iconButton(name: string, label: string, onClick: () => void): HTMLButtonElement {
  const button = el("button", "text-button");
  button.type = "button";
  button.title = label;
  button.append(icon(name), el("span", undefined, label));
  button.addEventListener("click", onClick);
  return button;
}

function formatUsage(usage: Usage): string {
  const parts = [`${usage.promptTokens.toLocaleString()} in`, `${usage.replyTokens.toLocaleString()} out`];
  if (usage.thoughtsTokens > 0) parts.push(`${usage.thoughtsTokens.toLocaleString()} thinking`);
  return `${parts.join(" · ")} tokens`;
}

/** Give every code block a Copy and an Insert at Cursor button. */
function decorateCodeBlocks(body: HTMLElement): void {
  for (const pre of Array.from(body.querySelectorAll("pre"))) {
    const code = pre.querySelector("code");
    const text = (code ?? pre).textContent ?? "";
    const lang = /language-(\S+)/.exec(code?.className ?? "")?.[1] ?? "";
    const wrapper = el("div", "code-block");
    const bar = el("div", "code-toolbar");
    bar.append(el("span", "code-lang", lang));
    bar.append(
      iconButton("copy", "Copy", () => post({ type: "copy", text })),
      iconButton("insert", "Insert at Cursor", () => post({ type: "insert", text })),
    );
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

/** Where the streaming cursor goes: the end of the last paragraph or list item, not a new line. */
function cursorHost(body: HTMLElement): HTMLElement {
  let host: Element = body;
  while (
    host.lastElementChild !== null &&
    /^(P|UL|OL|LI|BLOCKQUOTE|H[1-6])$/.test(host.lastElementChild.tagName)
  ) {
    host = host.lastElementChild;
  }
  return host as HTMLElement;
}

function renderBody(entry: Entry, body: HTMLElement): void {
  if (entry.role === "model") {
    // Sanitized by renderMarkdown (markdown-it without raw HTML, then DOMPurify).
    body.innerHTML = renderMarkdown(entry.text);
    decorateCodeBlocks(body);
    if (entry.streaming === true) cursorHost(body).append(el("span", "cursor"));
  } else {
    body.textContent = entry.text;
  }
}

function entryHeader(entry: Entry): HTMLElement {
  const header = el("div", "entry-header");
  const who = { user: "You", model: "Gemini", error: "Error" }[entry.role];
  const iconName = { user: "account", model: "sparkle", error: "error" }[entry.role];
  header.append(icon(iconName), el("span", "who", who));
  return header;
}

function entryFooter(entry: Entry): HTMLElement | undefined {
  const bits: string[] = [];
  if (entry.stopped === true) bits.push("Stopped");
  if (entry.usage !== undefined) bits.push(formatUsage(entry.usage));
  if (entry.model !== undefined && entry.role === "model") bits.push(entry.model);
  if (bits.length === 0) return undefined;
  return el("div", "entry-footer", bits.join(" · "));
}

function renderEntry(entry: Entry): HTMLElement {
  const node = el("article", `entry ${entry.role}`);
  node.dataset.id = entry.id;
  node.append(entryHeader(entry));
  if (entry.attachments !== undefined && entry.attachments.length > 0) {
    const chips = el("div", "entry-attachments");
    for (const name of entry.attachments) {
      const chip = el("span", "chip");
      chip.append(icon("file-code"), el("span", undefined, name));
      chips.append(chip);
    }
    node.append(chips);
  }
  const body = el("div", "entry-body");
  renderBody(entry, body);
  node.append(body);
  if (entry.role === "error" && entry.action !== undefined && entry.action !== "none") {
    const action = entry.action;
    const button = el("button", "action-button", ACTION_LABELS[action]);
    button.type = "button";
    button.addEventListener("click", () => post({ type: "action", action }));
    node.append(button);
  }
  const footer = entryFooter(entry);
  if (footer !== undefined) node.append(footer);
  return node;
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

function scrollToBottom(): void {
  log.scrollTop = log.scrollHeight;
}

function renderLog(): void {
  log.replaceChildren(...(view.entries.length === 0 ? [welcome()] : view.entries.map(renderEntry)));
  scrollToBottom();
}

function renderHeader(): void {
  workspaceName.textContent = view.workspaceName === "" ? "No folder" : view.workspaceName;
  workspaceButton.disabled = !view.canSwitchWorkspace;
  workspaceButton.title = view.canSwitchWorkspace
    ? "Switch workspace folder"
    : "Workspace folder of this conversation";
  const models = view.models.length > 0 ? view.models : [{ name: view.model, label: view.model }];
  modelSelect.replaceChildren(
    ...models.map((m) => {
      const option = el("option", undefined, m.label);
      option.value = m.name;
      option.selected = m.name === view.model;
      return option;
    }),
  );
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
  if (action !== "none") {
    const button = el("button", "action-button", ACTION_LABELS[action]);
    button.type = "button";
    button.addEventListener("click", () => post({ type: "action", action }));
    notice.append(button);
  }
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

function upsertEntry(entry: Entry): void {
  const stick = nearBottom();
  const index = view.entries.findIndex((e) => e.id === entry.id);
  if (index >= 0) view.entries[index] = entry;
  else view.entries.push(entry);
  const fresh = renderEntry(entry);
  const existing = log.querySelector(`[data-id="${CSS.escape(entry.id)}"]`);
  if (existing !== null) existing.replaceWith(fresh);
  else {
    log.querySelector(".welcome")?.remove();
    log.append(fresh);
  }
  if (stick || index < 0) scrollToBottom();
}

const dirty = new Set<string>();
let frameRequested = false;

/** Re-render streamed entries at most once a frame; Markdown must be re-parsed as it grows. */
function flushDeltas(): void {
  frameRequested = false;
  const stick = nearBottom();
  for (const id of dirty) {
    const entry = view.entries.find((e) => e.id === id);
    const body = log.querySelector(`[data-id="${CSS.escape(id)}"] .entry-body`);
    if (entry !== undefined && body instanceof HTMLElement) renderBody(entry, body);
  }
  dirty.clear();
  if (stick) scrollToBottom();
}

function applyDelta(id: string, text: string): void {
  const entry = view.entries.find((e) => e.id === id);
  if (entry === undefined) return;
  entry.text += text;
  dirty.add(id);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flushDeltas);
  }
}

function onHostMessage(message: HostMessage): void {
  switch (message.type) {
    case "snapshot":
      view = message.state;
      renderAll();
      break;
    case "delta":
      applyDelta(message.id, message.text);
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
