/** The view's header: the folder, the GEMINI.md chip, how full the context window is, the model. */

import { imageCount } from "../../src/imageAsk";
import type { HeaderState } from "../../src/messages";
import { el, icon } from "./dom";
import { shortCount } from "./format";
import { byId, post, store } from "./state";

/** The picker's entry that opens VS Code's list of every model. */
const ALL_MODELS = "\u0000all";

const modelSelect = byId<HTMLSelectElement>("model");
const workspaceButton = byId<HTMLButtonElement>("workspace");
const workspaceName = byId<HTMLElement>("workspace-name");
const workspaceIcon = byId<HTMLElement>("workspace-icon");
const contextFiles = byId<HTMLElement>("context-files");
const contextUse = byId<HTMLButtonElement>("context-use");

function renderContextFiles(): void {
  const files = store.view.contextFiles;
  contextFiles.replaceChildren(
    ...files.map((file) => {
      const chip = el("button", "context-chip");
      chip.type = "button";
      chip.title = `${file.path}\nAdded to every message in this folder. Click to open.`;
      chip.append(icon("book"), el("span", undefined, file.name));
      chip.addEventListener("click", () => post({ type: "openFile", path: file.path }));
      return chip;
    }),
  );
  contextFiles.hidden = files.length === 0;
}

function renderContextUse(): void {
  const { context, model } = store.view;
  contextUse.hidden = context === undefined;
  if (context === undefined) return;
  // Images Imagen drew since the last reply are sent with the next message but not in the number.
  const images = context.imagesSince ?? 0;
  const more = images > 0 ? "+" : "";
  contextUse.textContent = `${shortCount(context.used)}${more} / ${shortCount(context.limit)}`;
  const drawn = `, plus ${imageCount(images)} drawn since (not counted)`;
  const what =
    context.counted === true
      ? "the next message with your draft"
      : `this conversation at its last reply${images > 0 ? drawn : ""}`;
  contextUse.title =
    `Context window: ${context.used.toLocaleString()} of ${context.limit.toLocaleString()} ` +
    `input tokens used by ${what} (${model}). Click to count exactly.`;
  // Past 80 % the daemon starts summarising old exchanges: say so before it happens.
  contextUse.classList.toggle("full", context.used >= 0.8 * context.limit);
}

/** Draw the header from the state. */
export function renderHeader(): void {
  const view = store.view;
  const name = view.workspaceName === "" ? "No folder" : view.workspaceName;
  workspaceName.textContent = name;
  workspaceButton.disabled = !view.canSwitchWorkspace;
  // Multi-root: say whether the chat follows the active file's folder or stays on a picked one.
  const pinned = view.canSwitchWorkspace && view.workspacePinned === true;
  workspaceIcon.className = `codicon ${pinned ? "codicon-pinned" : "codicon-root-folder"}`;
  if (!view.canSwitchWorkspace) workspaceButton.title = "Workspace folder of this conversation";
  else if (pinned) {
    workspaceButton.title =
      `${name}: picked by hand, kept whichever file is active. ` +
      "Click to switch folder (pick the active file's folder to follow the editor again)";
  } else workspaceButton.title = `${name}: follows the active file's folder. Click to pick a folder`;
  const models = view.models.some((m) => m.name === view.model)
    ? view.models
    : [{ name: view.model, label: view.model }, ...view.models];
  const options = models.map((m) => {
    const option = el("option", undefined, m.label);
    option.value = m.name;
    option.selected = m.name === view.model;
    return option;
  });
  if (view.moreModels) {
    const all = el("option", undefined, "All models…");
    all.value = ALL_MODELS;
    options.push(all);
  }
  modelSelect.replaceChildren(...options);
  modelSelect.title = `Model for this folder: ${view.model}`;
  renderContextFiles();
  renderContextUse();
}

/** The header changed alone (the log stays as it is). */
export function applyHeader(header: HeaderState): void {
  const { context, ...rest } = header;
  store.view = { ...store.view, ...rest };
  // A header without `context` means it could not be measured: hide the indicator.
  if (context === undefined) delete store.view.context;
  else store.view.context = context;
  renderHeader();
}

modelSelect.addEventListener("change", () => {
  if (modelSelect.value === ALL_MODELS) {
    // VS Code's picker lists them; until one is picked the select shows the model in use.
    modelSelect.value = store.view.model;
    post({ type: "allModels" });
  } else post({ type: "selectModel", model: modelSelect.value });
});
workspaceButton.addEventListener("click", () => post({ type: "switchWorkspace" }));
contextUse.addEventListener("click", () => post({ type: "countTokens" }));
