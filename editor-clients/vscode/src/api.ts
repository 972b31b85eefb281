/** Typed calls to the daemon over any JSON-RPC connection (a LanguageClient or vscode-jsonrpc). */

import {
  type CancellationToken,
  type Disposable,
  type GenericNotificationHandler,
  ProgressType,
} from "vscode-jsonrpc";
import {
  type ChatDelta,
  type ChatParams,
  type ChatResult,
  type ConversationChanged,
  type ConversationsResult,
  type CountTokensResult,
  ErrorCode,
  type ExportResult,
  type FailureData,
  type GenerateImageParams,
  type GenerateImageResult,
  type HistoryResult,
  Method,
  type ModelsResult,
  Notification,
  type ResetResult,
  type SetModelResult,
  type StatusResult,
  type TurnProgress,
} from "./protocol";

/** What both `LanguageClient` and vscode-jsonrpc's `MessageConnection` offer. */
export interface RpcConnection {
  sendRequest<R>(method: string, params: unknown, token?: CancellationToken): Promise<R>;
  onProgress<P>(type: ProgressType<P>, token: string | number, handler: (value: P) => void): Disposable;
  onNotification(method: string, handler: GenericNotificationHandler): Disposable;
}

/** Work-done progress values (LSP `begin`/`report`/`end`). */
export interface WorkDoneValue {
  kind: "begin" | "report" | "end";
  title?: string;
  message?: string;
}

export interface ChatCallbacks {
  onDelta?: (delta: ChatDelta) => void;
  onWorkDone?: (value: WorkDoneValue) => void;
}

let tokenCounter = 0;

function nextToken(prefix: string): string {
  tokenCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${tokenCounter}`;
}

/** The daemon's `gemini/*` methods, typed. */
export class GeminiApi {
  constructor(private readonly rpc: RpcConnection) {}

  /** Send one chat turn, streaming the reply's pieces to `callbacks.onDelta`. */
  chat(
    params: Omit<ChatParams, "partialResultToken" | "workDoneToken">,
    callbacks: ChatCallbacks = {},
    token?: CancellationToken,
  ): Promise<ChatResult> {
    return this.streamed<ChatResult>(Method.chat, params, callbacks, token);
  }

  /** Imagen draws `prompt`; the request and its images become the folder's next exchange. */
  generateImage(
    params: Omit<GenerateImageParams, "partialResultToken" | "workDoneToken">,
    callbacks: ChatCallbacks = {},
    token?: CancellationToken,
  ): Promise<GenerateImageResult> {
    return this.streamed<GenerateImageResult>(Method.generateImage, params, callbacks, token);
  }

  /** A request whose pieces arrive as `$/progress` (partial results, work done) until it answers. */
  private async streamed<R>(
    method: string,
    params: object,
    callbacks: ChatCallbacks,
    token?: CancellationToken,
  ): Promise<R> {
    const partialResultToken = nextToken("p");
    const workDoneToken = nextToken("w");
    const subscriptions = [
      this.rpc.onProgress(new ProgressType<ChatDelta>(), partialResultToken, (value) => {
        callbacks.onDelta?.(value);
      }),
      this.rpc.onProgress(new ProgressType<WorkDoneValue>(), workDoneToken, (value) => {
        callbacks.onWorkDone?.(value);
      }),
    ];
    try {
      return await this.request<R>(method, { ...params, partialResultToken, workDoneToken }, token);
    } finally {
      for (const s of subscriptions) s.dispose();
    }
  }

  /** vscode-jsonrpc takes a trailing `undefined` for a second parameter: pass a token only if given. */
  private request<R>(method: string, params: object, token?: CancellationToken): Promise<R> {
    return token === undefined
      ? this.rpc.sendRequest<R>(method, params)
      : this.rpc.sendRequest<R>(method, params, token);
  }

  /** The workspace's conversation, oldest first. */
  history(workspace?: string): Promise<HistoryResult> {
    return this.request<HistoryResult>(Method.history, withWorkspace(workspace));
  }

  /** Archive the workspace's conversation and start a fresh one. */
  reset(workspace?: string): Promise<ResetResult> {
    return this.request<ResetResult>(Method.reset, withWorkspace(workspace));
  }

  /** Models that can chat. */
  models(): Promise<ModelsResult> {
    return this.request<ModelsResult>(Method.models, {});
  }

  /** The daemon's version, model, whether it has a key, and the workspace's context files. */
  status(workspace?: string): Promise<StatusResult> {
    return this.request<StatusResult>(Method.status, withWorkspace(workspace));
  }

  /** Remember `model` for the workspace (null: back to the `model` setting). */
  setModel(workspace: string | undefined, model: string | null): Promise<SetModelResult> {
    return this.request<SetModelResult>(Method.setModel, { ...withWorkspace(workspace), model });
  }

  /** The size of the next turn (the conversation, plus a draft and its attachments) against the limit. */
  countTokens(
    workspace?: string,
    draft: Partial<Pick<ChatParams, "message" | "attachments">> = {},
  ): Promise<CountTokensResult> {
    return this.request<CountTokensResult>(Method.countTokens, { ...withWorkspace(workspace), ...draft });
  }

  /** The folder's conversations, most recently updated first. */
  conversations(workspace?: string, limit?: number, offset?: number): Promise<ConversationsResult> {
    const params: Record<string, unknown> = withWorkspace(workspace);
    if (limit !== undefined) params.limit = limit;
    if (offset !== undefined) params.offset = offset;
    return this.request<ConversationsResult>(Method.conversations, params);
  }

  /** Make conversation `id` the folder's active one (the active one is archived). */
  openConversation(workspace: string | undefined, id: string): Promise<{ id: string }> {
    return this.request(Method.openConversation, { ...withWorkspace(workspace), id });
  }

  /** Give conversation `id` a title (blank: back to its first question). */
  renameConversation(workspace: string | undefined, id: string, title: string): Promise<{ title: string }> {
    return this.request(Method.renameConversation, { ...withWorkspace(workspace), id, title });
  }

  /** Delete conversation `id` for good. */
  deleteConversation(workspace: string | undefined, id: string): Promise<{ deleted: boolean }> {
    return this.request(Method.deleteConversation, { ...withWorkspace(workspace), id });
  }

  /** A conversation (the active one without `id`) as Markdown. */
  export(workspace: string | undefined, id?: string): Promise<ExportResult> {
    const params: Record<string, unknown> = withWorkspace(workspace);
    if (id !== undefined) params.id = id;
    return this.request<ExportResult>(Method.export, params);
  }

  /** Every change to a folder's conversation, made by any daemon (this one included). */
  onConversationChanged(handler: (params: ConversationChanged) => void): Disposable {
    return this.rpc.onNotification(Notification.conversationChanged, handler);
  }

  /** Another editor's turn: started, streaming (the whole reply so far), finished, failed. */
  onTurnProgress(handler: (params: TurnProgress) => void): Disposable {
    return this.rpc.onNotification(Notification.turnProgress, handler);
  }
}

function withWorkspace(workspace?: string): { workspace?: string } {
  return workspace === undefined ? {} : { workspace };
}

/** What the UI offers next to an error. */
export type ErrorAction =
  | "setApiKey"
  | "selectModel"
  | "retry"
  | "showLog"
  | "openSettings"
  | "installServer"
  | "openSafetySettings"
  | "none";

export interface ErrorView {
  kind: "cancelled" | "failed";
  message: string;
  reason: string;
  action: ErrorAction;
  retryAfterSeconds?: number;
  /** For a blocked turn: the harm categories Gemini named. */
  categories?: string[];
  /** storage: the finished reply that could not be saved. */
  text?: string;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

function actionFor(reason: string): ErrorAction {
  switch (reason) {
    case "apiKeyMissing":
    case "apiKeyInvalid":
      return "setApiKey";
    case "modelNotFound":
      return "selectModel";
    case "rateLimited":
    case "upstreamUnavailable":
    case "timeout":
    case "network":
      return "retry";
    case "internal":
      return "showLog";
    case "blocked":
      return "openSafetySettings";
    default:
      return "none";
  }
}

/** Turn any error from a request into what the chat shows: plain words plus an action. */
export function describeError(error: unknown): ErrorView {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  const code = typeof e.code === "number" ? e.code : undefined;
  const name = error instanceof Error ? error.name : "";
  if (code === ErrorCode.requestCancelled || name === "Canceled" || name === "CancellationError") {
    return { kind: "cancelled", message: "Stopped.", reason: "cancelled", action: "none" };
  }
  const data = (typeof e.data === "object" && e.data !== null ? e.data : {}) as FailureData;
  const reason = data.reason ?? (code === undefined ? "internal" : "unknown");
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(error);
  const view: ErrorView = { kind: "failed", message, reason, action: actionFor(reason) };
  if (data.retryAfterSeconds !== undefined) view.retryAfterSeconds = data.retryAfterSeconds;
  if (data.categories !== undefined && data.categories.length > 0) view.categories = data.categories;
  if (typeof data.text === "string" && data.text !== "") view.text = data.text;
  return view;
}
