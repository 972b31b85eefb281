/** The input area: the message, its attachments (chips, the active file), Send, Stop, the notice. */

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
  chips.hidden = attachments.length === 0 && active === undefined;
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
  saveDraft();
  mentionInput();
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => post({ type: "draft", text: input.value }), DRAFT_PAUSE_MS);
});
sendButton.addEventListener("click", send);
stopButton.addEventListener("click", () => post({ type: "stop" }));
attachButton.addEventListener("click", () => post({ type: "attachFiles" }));
activeFile.addEventListener("click", () => post({ type: "attachActive" }));

const saved = vscode.getState() as SavedState | undefined;
if (saved !== undefined && typeof saved.draft === "string") input.value = saved.draft;
autoresize();
