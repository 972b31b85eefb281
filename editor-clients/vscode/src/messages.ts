/** Messages between the extension host and the chat webview (both directions, switched on `type`). */

import type { ErrorAction } from "./api";
import type { ImagenAsk, JsonCheck, Redaction, ToolCall, Usage } from "./protocol";

/** An image of a reply: `src` is a data: URI the host read from `path`; absent when unreadable. */
export interface ImageView {
  mimeType: string;
  path: string;
  src?: string;
}

/** An attached item as a chip shows it: in the composer, and in the message it went with. */
export interface AttachmentView {
  /** What the chip says: a workspace-relative path (with `:11-20` for a range), or a name. */
  name: string;
  mimeType?: string;
  /** Bytes, when known (not for items of a stored conversation). */
  size?: number;
  /** A data: URI of a small image, for the chip's thumbnail. */
  thumb?: string;
}

/** One item of the chat transcript as the webview shows it. */
export interface Entry {
  id: string;
  /** "compacted": the divider standing for earlier exchanges summarised by the daemon. */
  role: "user" | "model" | "error" | "compacted";
  /** The message, the reply, the error, or (compacted) the summary; "" when not known. */
  text: string;
  attachments?: AttachmentView[];
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
  /** A turn another editor (Neovim, the terminal, another window) sent on this folder. */
  fromOther?: boolean;
  /** A user message waiting for the reply in progress to end. */
  queued?: boolean;
  /**
   * A reply cut short when the editor writing it went away, offered to send again: a chat
   * question ("chat"), or an image request drawn again ("image").
   */
  interrupted?: "chat" | "image";
  /** A finished reply the store could not keep (shown so nothing is lost). */
  notSaved?: boolean;
  /** Secrets masked in what was sent. */
  redacted?: Redaction[];
  /** While a reply waits: "rate limited: retrying in 12 s", "waiting for another editor's turn". */
  status?: string;
  /** user: a request to Imagen (`/image`), what it asked for. */
  imagen?: ImagenAsk;
  /** model: why Imagen dropped images, one reason per missing image. */
  filtered?: string[];
  /** Asked as JSON (user: the badge; model: drawn as JSON while it streams), with its schema's name. */
  asJson?: JsonMode;
  /** model: the daemon's check of a JSON reply (its value pretty-printed, its errors told). */
  json?: JsonCheck;
}

/** JSON mode of the composer (present: on): replies as JSON, checked against the schema file picked. */
export interface JsonMode {
  /** The schema file, relative to the folder; absent: any JSON. */
  schema?: string;
}

export interface ModelChoice {
  name: string;
  label: string;
}

/** How full the context window is: the last turn's usage, or a count of the draft. */
export interface ContextUse {
  used: number;
  limit: number;
  /** Counted by gemini/countTokens with the draft and its attachments (else the last turn's usage). */
  counted?: boolean;
  /** Images Imagen drew since the reply `used` comes from: in the context, not in `used`. */
  imagesSince?: number;
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
  /** The folder was picked by hand (multi-root): it stays whichever file is active. */
  workspacePinned?: boolean;
  model: string;
  /** Chat models; the others are behind the picker's "All models…". */
  models: ModelChoice[];
  moreModels: boolean;
  contextFiles: ContextFile[];
  context?: ContextUse;
}

/** Everything the webview needs to draw itself from scratch. */
export interface ViewState extends HeaderState {
  entries: Entry[];
  /** A reply of this window is being written (Stop applies to it). */
  busy: boolean;
  attachments: AttachmentView[];
  /** The active editor's file, offered as a one-click attachment. */
  activeFile?: string;
  /** JSON mode, when on. */
  jsonMode?: JsonMode;
  notice?: { message: string; action: ErrorAction };
}

/** A workspace file offered after `#` in the input. */
export interface FileChoice {
  path: string;
  name: string;
}

export type HostMessage =
  | { type: "snapshot"; state: ViewState }
  | { type: "header"; header: HeaderState }
  | { type: "delta"; id: string; text: string }
  | { type: "text"; id: string; text: string; thoughts?: string }
  | { type: "thought"; id: string; text: string }
  | { type: "tool"; id: string; tool: ToolCall }
  | { type: "image"; id: string; image: ImageView }
  | { type: "entry"; entry: Entry }
  | { type: "busy"; busy: boolean }
  | { type: "composer"; attachments: AttachmentView[]; activeFile?: string; jsonMode?: JsonMode }
  | { type: "files"; query: string; files: FileChoice[] }
  /** Put `text` back into the input (a command that could not run, e.g. a mistyped `/image`). */
  | { type: "restoreInput"; text: string }
  | { type: "focusInput" };

export type ViewMessage =
  | { type: "ready" }
  | { type: "send"; text: string }
  | { type: "stop" }
  | { type: "newChat" }
  | { type: "selectModel"; model: string }
  | { type: "allModels" }
  | { type: "switchWorkspace" }
  | { type: "removeAttachment"; index: number }
  | { type: "attachFiles" }
  | { type: "attachActive" }
  | { type: "attachPath"; path: string }
  | { type: "attachUris"; uris: string[] }
  | { type: "attachData"; name: string; mimeType: string; data: string }
  | { type: "searchFiles"; query: string }
  | { type: "draft"; text: string }
  | { type: "countTokens" }
  | { type: "jsonMode"; on: boolean }
  | { type: "pickSchema" }
  | { type: "unqueue"; id: string }
  | { type: "resend"; id: string }
  | { type: "copy"; text: string }
  | { type: "insert"; text: string }
  | { type: "apply"; text: string; id: string }
  | { type: "openFile"; path: string }
  | { type: "action"; action: ErrorAction; id?: string };
