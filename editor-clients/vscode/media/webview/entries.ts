/** One transcript entry as DOM: header, thoughts, tool calls, the Markdown body, images, footer. */

import type { ErrorAction } from "../../src/api";
import { imagenLabel } from "../../src/imageAsk";
import type { Entry, ImageView, ViewMessage } from "../../src/messages";
import type { ToolCall } from "../../src/protocol";
import { costText, usageAmount } from "../../src/usageText";
import { chipRow } from "./chips";
import { el, icon, iconButton } from "./dom";
import { compactedLabel, redactionLine, toolIcon } from "./format";
import { jsonBadgeText, jsonVerdict, replyMarkdown } from "./jsonReply";
import { renderMarkdown } from "./render";

/** Sends a message to the extension host. */
export type Post = (message: ViewMessage) => void;

export const ACTION_LABELS: Record<ErrorAction, string> = {
  setApiKey: "Set API Key",
  selectModel: "Select Model",
  retry: "Retry",
  showLog: "Show Log",
  openSettings: "Open Settings",
  installServer: "Install the Server",
  openSafetySettings: "Open Safety Settings",
  none: "",
};

/** A button that runs one of the host's error actions (for the error entry `id`). */
export function actionButton(action: ErrorAction, post: Post, id?: string): HTMLButtonElement {
  const button = el("button", "action-button", ACTION_LABELS[action]);
  button.type = "button";
  button.addEventListener("click", () =>
    post(id === undefined ? { type: "action", action } : { type: "action", action, id }),
  );
  return button;
}

/** Give every code block Copy, Insert (at the cursor, re-indented) and Apply (a diff to accept). */
function decorateCodeBlocks(body: HTMLElement, entry: Entry, post: Post): void {
  for (const pre of Array.from(body.querySelectorAll("pre"))) {
    const code = pre.querySelector("code");
    const text = (code ?? pre).textContent ?? "";
    const lang = /language-(\S+)/.exec(code?.className ?? "")?.[1] ?? "";
    const wrapper = el("div", "code-block");
    const bar = el("div", "code-toolbar");
    bar.append(el("span", "code-lang", lang));
    const insert = iconButton("insert", "Insert", () => post({ type: "insert", text }));
    insert.title = "Insert at the cursor, indented to its line";
    const apply = iconButton("git-compare", "Apply", () => post({ type: "apply", text, id: entry.id }));
    apply.title = "Apply to the file: review the change in a diff, then Accept or Discard";
    bar.append(
      iconButton("copy", "Copy", () => post({ type: "copy", text })),
      insert,
      apply,
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

/** (Re)draw an entry's main text into `body`. */
export function renderBody(entry: Entry, body: HTMLElement, post: Post): void {
  if (entry.role === "model") {
    // Sanitized by renderMarkdown (markdown-it without raw HTML, then DOMPurify).
    body.innerHTML = renderMarkdown(replyMarkdown(entry));
    decorateCodeBlocks(body, entry, post);
    // A reply that says what it waits for (Imagen drawing, a retry) has nothing being written yet.
    const waiting = entry.status !== undefined && entry.text === "";
    if (entry.streaming === true && !waiting) cursorHost(body).append(el("span", "cursor"));
  } else {
    body.textContent = entry.text;
  }
}

/** (Re)draw the thought summaries into the collapsed block's body. */
export function renderThoughts(entry: Entry, body: HTMLElement): void {
  body.innerHTML = renderMarkdown(entry.thoughts ?? "");
}

function thoughtsBlock(entry: Entry): HTMLElement {
  const details = el("details", "thoughts");
  const summary = el("summary");
  summary.append(icon("lightbulb"), el("span", undefined, "Thoughts"));
  const body = el("div", "thoughts-body");
  renderThoughts(entry, body);
  details.append(summary, body);
  return details;
}

function toolList(tools: ToolCall[]): HTMLElement {
  const list = el("ul", "tool-calls");
  list.setAttribute("aria-label", "Tools used");
  for (const tool of tools) {
    const item = el("li", "tool-call");
    item.title = tool.name;
    item.append(icon(toolIcon(tool.name)), el("span", undefined, tool.summary));
    list.append(item);
  }
  return list;
}

function imageList(images: ImageView[]): HTMLElement {
  const box = el("div", "entry-images");
  for (const image of images) {
    if (image.src === undefined) {
      // Not readable from here (or too big to inline): the path still lets the user open it.
      const missing = el("div", "image-path");
      missing.append(icon("file-media"), el("span", undefined, image.path));
      box.append(missing);
      continue;
    }
    const img = el("img", "reply-image");
    img.src = image.src;
    img.alt = "Image from Gemini";
    img.title = image.path;
    box.append(img);
  }
  return box;
}

function badge(iconName: string, text: string, title: string): HTMLElement {
  const node = el("span", "badge");
  node.title = title;
  node.append(icon(iconName), el("span", undefined, text));
  return node;
}

function entryHeader(entry: Entry, post: Post): HTMLElement {
  const header = el("div", "entry-header");
  const who = { user: "You", model: "Gemini", error: "Error", compacted: "" }[entry.role];
  const iconName = { user: "account", model: "sparkle", error: "error", compacted: "fold" }[entry.role];
  header.append(icon(iconName), el("span", "who", who));
  if (entry.fromOther === true) {
    const title = "Sent from another editor on this folder (Neovim, the terminal, another window)";
    header.append(badge("remote", "another editor", title));
  }
  const json = jsonBadgeText(entry);
  if (entry.role === "user" && json !== undefined) {
    header.append(
      badge(
        "json",
        json,
        `Asked to reply as JSON${entry.asJson?.schema ? ` matching ${entry.asJson.schema}` : ""}`,
      ),
    );
  }
  if (entry.queued === true) {
    header.append(badge("clock", "queued", "Sent when the reply in progress ends"));
    const cancel = el("button", "chip-remove");
    cancel.type = "button";
    cancel.title = "Do not send this question";
    cancel.setAttribute("aria-label", "Do not send this question");
    cancel.append(icon("close"));
    cancel.addEventListener("click", () => post({ type: "unqueue", id: entry.id }));
    header.append(cancel);
  }
  return header;
}

/** A dim line in a reply: what it waits for, secrets masked in what was sent. */
function noteLine(iconName: string, text: string, className: string): HTMLElement {
  const line = el("div", `note ${className}`);
  line.append(icon(iconName), el("span", undefined, text));
  return line;
}

/** Under a reply: Stopped / Not saved, what it used and cost (and the conversation so far), the model. */
function entryFooter(entry: Entry): HTMLElement | undefined {
  const bits: { text: string; className?: string; title?: string }[] = [];
  if (entry.stopped === true) bits.push({ text: "Stopped" });
  if (entry.notSaved === true) bits.push({ text: "Not saved" });
  if (entry.usage !== undefined) {
    bits.push({ text: usageAmount(entry.usage) });
    const cost = costText(entry.usage);
    if (cost !== undefined) bits.push({ text: cost, className: "cost", title: COST_TITLE });
  }
  if (entry.model !== undefined && entry.role === "model") bits.push({ text: entry.model });
  if (bits.length === 0) return undefined;
  // Each bit kept whole: a narrow view wraps between them, never inside a model name.
  const footer = el("div", "entry-footer");
  bits.forEach((bit, i) => {
    if (i > 0) footer.append(" · ");
    const span = el("span", bit.className, bit.text);
    if (bit.title !== undefined) span.title = bit.title;
    footer.append(span);
  });
  return footer;
}

const COST_TITLE =
  "Estimated from the daemon's price table (the Gemini API's paid-tier prices; geminiChat.prices overrides them): this reply, and the conversation's priced replies so far.";

/** The divider for exchanges the daemon summarised; the summary (when known) folded under it. */
function compactionDivider(entry: Entry): HTMLElement {
  const node = el("div", "entry compacted");
  node.dataset.id = entry.id;
  node.setAttribute("role", "separator");
  const label = el("span", "divider-label");
  label.append(icon("fold"), el("span", undefined, compactedLabel(entry.turns ?? 0)));
  if (entry.text === "") {
    node.append(label);
    return node;
  }
  const details = el("details", "compaction-summary");
  const summary = el("summary");
  summary.append(label);
  const body = el("div", "entry-body");
  body.innerHTML = renderMarkdown(entry.text);
  details.append(summary, body);
  node.append(details);
  return node;
}

/** What an interrupted turn says, and its button sending it again (an image request: drawn again). */
function interruptedNote(kind: "chat" | "image", id: string, post: Post): HTMLElement[] {
  const what = kind === "image" ? "drawing this image" : "writing this reply";
  const note = noteLine(
    "debug-disconnect",
    `Interrupted: the editor ${what} closed before it ended.`,
    "interrupted",
  );
  const again = el("button", "action-button", kind === "image" ? "Draw again" : "Send again");
  again.type = "button";
  again.title = kind === "image" ? "Send the image request again" : "Send the question again";
  again.addEventListener("click", () => post({ type: "resend", id }));
  return [note, again];
}

/** The whole entry. */
export function renderEntry(entry: Entry, post: Post): HTMLElement {
  if (entry.role === "compacted") return compactionDivider(entry);
  const classes = [
    "entry",
    entry.role,
    entry.fromOther === true ? "from-other" : "",
    entry.queued === true ? "queued" : "",
  ];
  const node = el("article", classes.join(" ").trim());
  node.dataset.id = entry.id;
  node.append(entryHeader(entry, post));
  if (entry.attachments !== undefined && entry.attachments.length > 0)
    node.append(chipRow(entry.attachments));
  if (entry.imagen !== undefined) node.append(noteLine("symbol-color", imagenLabel(entry.imagen), "imagen"));
  if (entry.redacted !== undefined && entry.redacted.length > 0) {
    node.append(noteLine("shield", redactionLine(entry.redacted), "redacted"));
  }
  if (entry.status !== undefined) node.append(noteLine("watch", entry.status, "status"));
  if (entry.thoughts !== undefined && entry.thoughts !== "") node.append(thoughtsBlock(entry));
  if (entry.tools !== undefined && entry.tools.length > 0) node.append(toolList(entry.tools));
  const body = el("div", "entry-body");
  renderBody(entry, body, post);
  node.append(body);
  const verdict = jsonVerdict(entry);
  if (verdict !== undefined) node.append(verdict);
  if (entry.images !== undefined && entry.images.length > 0) node.append(imageList(entry.images));
  for (const reason of entry.filtered ?? [])
    node.append(noteLine("eye-closed", `Filtered: ${reason}`, "filtered"));
  if (entry.role === "error" && entry.action !== undefined && entry.action !== "none") {
    node.append(actionButton(entry.action, post, entry.id));
  }
  if (entry.interrupted !== undefined) node.append(...interruptedNote(entry.interrupted, entry.id, post));
  const footer = entryFooter(entry);
  if (footer !== undefined) node.append(footer);
  return node;
}
