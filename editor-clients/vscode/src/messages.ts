/** Messages between the extension host and the chat webview (both directions, switched on `type`). */

import type { ErrorAction } from "./api";
import type { Usage } from "./protocol";

/** One item of the chat transcript as the webview shows it. */
export interface Entry {
  id: string;
  role: "user" | "model" | "error";
  text: string;
  attachments?: string[];
  usage?: Usage;
  model?: string;
  streaming?: boolean;
  stopped?: boolean;
  action?: ErrorAction;
}

export interface ModelChoice {
  name: string;
  label: string;
}

/** Everything the webview needs to draw itself from scratch. */
export interface ViewState {
  entries: Entry[];
  busy: boolean;
  workspaceName: string;
  canSwitchWorkspace: boolean;
  model: string;
  models: ModelChoice[];
  attachments: string[];
  notice?: { message: string; action: ErrorAction };
}

export type HostMessage =
  | { type: "snapshot"; state: ViewState }
  | { type: "delta"; id: string; text: string }
  | { type: "entry"; entry: Entry }
  | { type: "busy"; busy: boolean }
  | { type: "focusInput" };

export type ViewMessage =
  | { type: "ready" }
  | { type: "send"; text: string }
  | { type: "stop" }
  | { type: "newChat" }
  | { type: "selectModel"; model: string }
  | { type: "switchWorkspace" }
  | { type: "removeAttachment"; index: number }
  | { type: "copy"; text: string }
  | { type: "insert"; text: string }
  | { type: "action"; action: ErrorAction };
