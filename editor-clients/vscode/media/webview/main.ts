/** The chat webview: draws the host's ViewState, sends user actions back. Runs in the browser. */

import type { HostMessage } from "../../src/messages";
import { focusInput, renderAttachments, renderBusy, renderNotice, restoreInput } from "./composer";
import { applyHeader, renderHeader } from "./header";
import "./intake";
import { applyDelta, applyExtra, applyText, applyThought, renderLog, upsertEntry } from "./log";
import { showFiles } from "./mentions";
import { post, store } from "./state";

function renderAll(): void {
  renderHeader();
  renderLog();
  renderAttachments();
  renderNotice();
  renderBusy();
}

function onHostMessage(message: HostMessage): void {
  switch (message.type) {
    case "snapshot":
      store.view = message.state;
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
    case "text":
      applyText(message.id, message.text, message.thoughts);
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
      store.view.busy = message.busy;
      renderBusy();
      break;
    case "composer":
      store.view.attachments = message.attachments;
      if (message.activeFile === undefined) delete store.view.activeFile;
      else store.view.activeFile = message.activeFile;
      if (message.jsonMode === undefined) delete store.view.jsonMode;
      else store.view.jsonMode = message.jsonMode;
      renderAttachments();
      break;
    case "restoreInput":
      restoreInput(message.text);
      break;
    case "files":
      showFiles(message.query, message.files);
      break;
    case "focusInput":
      focusInput();
      break;
  }
}

window.addEventListener("message", (event: MessageEvent<HostMessage>) => onHostMessage(event.data));
renderAll();
post({ type: "ready" });
