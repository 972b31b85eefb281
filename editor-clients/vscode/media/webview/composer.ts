/** The input area: the message, its attachments (chips, the active file), Send, Stop, the notice. */

import { IMAGE_USAGE } from "../../src/imageAsk";
import { chip } from "./chips";
import { el, icon } from "./dom";
import { actionButton } from "./entries";
import { mentionInput, mentionKeydown } from "./mentions";
import { byId, post, store, vscode } from "./state";

interface SavedState {
  draft: string;
}

const input = byId<HTMLTextAreaElement>("input");
const sendButton = byId<HTMLButtonElement>("send");
const stopButton = byId<HTMLButtonElement>("stop");
const attachButton = byId<HTMLButtonElement>("attach");
const chips = byId<HTMLElement>("chips");
const attachmentList = byId<HTMLUListElement>("attachments");
const activeFile = byId<HTMLButtonElement>("active-file");
const jsonToggle = byId<HTMLButtonElement>("json-toggle");
const jsonChip = byId<HTMLButtonElement>("json-mode");
const hint = byId<HTMLElement>("hint");
const notice = byId<HTMLElement>("notice");

/** The draft is counted by the host (gemini/countTokens) once typing pauses this long. */
const DRAFT_PAUSE_MS = 1200;
let draftTimer: ReturnType<typeof setTimeout> | undefined;

/** Draw the attachment chips and the active file's one-click chip. */
export function renderAttachments(): void {
  const { attachments } = store.view;
  attachmentList.replaceChildren(
    ...attachments.map((a, index) => {
      const item = chip(a, "li");
      const remove = el("button", "chip-remove");
      remove.type = "button";
      remove.title = `Remove ${a.name}`;
      remove.setAttribute("aria-label", `Remove ${a.name}`);
      remove.append(icon("close"));
      remove.addEventListener("click", () => post({ type: "removeAttachment", index }));
      item.append(remove);
      return item;
    }),
  );
  attachmentList.hidden = attachments.length === 0;
  const active = store.view.activeFile;
  activeFile.hidden = active === undefined;
  if (active !== undefined) {
    activeFile.replaceChildren(icon("add"), el("span", "chip-name", active.split("/").pop() ?? active));
    activeFile.title = `Attach the current file, ${active}`;
  }
  renderJsonMode();
  chips.hidden = attachments.length === 0 && active === undefined && store.view.jsonMode === undefined;
}

/** The JSON toggle, pressed while replies come as JSON, and the chip naming the schema (a click picks another). */
function renderJsonMode(): void {
  const mode = store.view.jsonMode;
  jsonToggle.setAttribute("aria-pressed", String(mode !== undefined));
  jsonToggle.classList.toggle("on", mode !== undefined);
  jsonChip.hidden = mode === undefined;
  if (mode === undefined) return;
  const schema = mode.schema === undefined ? "any JSON" : (mode.schema.split("/").pop() ?? mode.schema);
  jsonChip.replaceChildren(icon("json"), el("span", "chip-name", `JSON · ${schema}`), icon("chevron-down"));
  jsonChip.title = `Replies come as JSON${mode.schema === undefined ? "" : ` matching ${mode.schema}`}. Click to pick the schema.`;
}

/** Typing a slash command: what it takes. */
function renderHint(): void {
  const text = input.value.trimStart();
  const show = text.startsWith("/") && "/image".startsWith(text.split(/\s/)[0] ?? "");
  hint.hidden = !show;
  if (show) hint.textContent = `${IMAGE_USAGE}: Imagen draws it, into the conversation`;
}

/** Put back text the host could not send (a mistyped /image). */
export function restoreInput(text: string): void {
  input.value = text;
  autoresize();
  saveDraft();
  renderHint();
  input.focus();
}

export function renderNotice(): void {
  notice.replaceChildren();
  notice.hidden = store.view.notice === undefined;
  if (store.view.notice === undefined) return;
  const { message, action } = store.view.notice;
  const warning = icon("warning");
  warning.classList.add("notice-icon");
  notice.append(warning, el("span", undefined, message));
  if (action !== "none") notice.append(actionButton(action, post));
}

/** While a reply of this window streams: Stop shows; Send (and Enter) queue the next question. */
export function renderBusy(): void {
  const busy = store.view.busy;
  stopButton.hidden = !busy;
  sendButton.title = busy ? "Queue (Enter): sent when the reply ends" : "Send (Enter)";
  document.body.classList.toggle("busy", busy);
}

export function focusInput(): void {
  input.focus();
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
  if (text.trim() === "" && store.view.attachments.length === 0) return;
  clearTimeout(draftTimer);
  post({ type: "send", text });
  input.value = "";
  autoresize();
  saveDraft();
  renderHint();
}

input.addEventListener("keydown", (event) => {
  if (mentionKeydown(event)) return;
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  } else if (event.key === "Escape" && store.view.busy) {
    post({ type: "stop" });
  }
});
input.addEventListener("input", () => {
  autoresize();
  renderHint();
  saveDraft();
  mentionInput();
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => post({ type: "draft", text: input.value }), DRAFT_PAUSE_MS);
});
sendButton.addEventListener("click", send);
stopButton.addEventListener("click", () => post({ type: "stop" }));
attachButton.addEventListener("click", () => post({ type: "attachFiles" }));
activeFile.addEventListener("click", () => post({ type: "attachActive" }));
jsonToggle.addEventListener("click", () => post({ type: "jsonMode", on: store.view.jsonMode === undefined }));
jsonChip.addEventListener("click", () => post({ type: "pickSchema" }));

const saved = vscode.getState() as SavedState | undefined;
if (saved !== undefined && typeof saved.draft === "string") input.value = saved.draft;
autoresize();
