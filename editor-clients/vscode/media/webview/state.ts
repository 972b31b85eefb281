/** The webview's state and its one line to the host; shared by the page's parts. */

import type { ViewMessage, ViewState } from "../../src/messages";

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** VS Code's handle; acquired once per page. */
export const vscode = acquireVsCodeApi();

/** What the host last said, plus the webview's own changes since (streamed text). */
export const store: { view: ViewState } = {
  view: {
    entries: [],
    busy: false,
    workspaceName: "",
    canSwitchWorkspace: false,
    model: "",
    models: [],
    moreModels: false,
    contextFiles: [],
    attachments: [],
  },
};

/** Send a message to the extension host. */
export function post(message: ViewMessage): void {
  vscode.postMessage(message);
}

/** An element of the page by id. */
export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`missing #${id}`);
  return node as T;
}
