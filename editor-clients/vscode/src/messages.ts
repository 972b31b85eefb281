/** Messages between the extension host and the chat webview (both directions, switched on `type`). */

import type { ErrorAction } from "./api";
import type { ToolCall, Usage } from "./protocol";

/** An image of a reply: `src` is a data: URI the host read from `path`; absent when unreadable. */
export interface ImageView {
  mimeType: string;
  path: string;
  src?: string;
}

/** One item of the chat transcript as the webview shows it. */
export interface Entry {
  id: string;
  /** "compacted": the divider standing for earlier exchanges summarised by the daemon. */
  role: "user" | "model" | "error" | "compacted";
  /** The message, the reply, the error, or (compacted) the summary; "" when not known. */
  text: string;
  attachments?: string[];
  usage?: Usage;
  model?: string;
  streaming?: boolean;
  stopped?: boolean;
  action?: ErrorAction;
  thoughts?: string;
  tools?: ToolCall[];
  images?: ImageView[];
  /** compacted: how many exchanges the summary stands for. */
  turns?: number;
}

export interface ModelChoice {
  name: string;
  label: string;
}

/** How full the context window is (gemini/countTokens). */
export interface ContextUse {
  used: number;
  limit: number;
}

/** A context file (GEMINI.md) the daemon adds to every turn of this workspace. */
export interface ContextFile {
  name: string;
  path: string;
}

/** The header's part of the state: folder, model, context window, context files. */
export interface HeaderState {
  workspaceName: string;
  canSwitchWorkspace: boolean;
  model: string;
  models: ModelChoice[];
  contextFiles: ContextFile[];
  context?: ContextUse;
}

/** Everything the webview needs to draw itself from scratch. */
export interface ViewState extends HeaderState {
  entries: Entry[];
  busy: boolean;
  attachments: string[];
  notice?: { message: string; action: ErrorAction };
}

export type HostMessage =
  | { type: "snapshot"; state: ViewState }
  | { type: "header"; header: HeaderState }
  | { type: "delta"; id: string; text: string }
  | { type: "thought"; id: string; text: string }
  | { type: "tool"; id: string; tool: ToolCall }
  | { type: "image"; id: string; image: ImageView }
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
  | { type: "openFile"; path: string }
  | { type: "action"; action: ErrorAction };
