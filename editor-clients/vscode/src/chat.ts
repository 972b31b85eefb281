/** The chat's host side: one conversation view-model per window, driven by the webview and commands. */

import * as vscode from "vscode";
import { describeError, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import { type ErrorActionHandlers, runErrorAction, shownError } from "./errors";
import { FolderInfo } from "./folderInfo";
import { FolderFollower } from "./folders";
import type { HeaderState, HostMessage, ViewMessage, ViewState } from "./messages";
import { ModelPicker } from "./models";
import type { ChatParams, ChatResult } from "./protocol";
import { type PendingAttachment, Selections } from "./selection";
import { readSettings, turnGenerationConfig } from "./settings";
import { ReplyStatus } from "./status";
import { Transcript, type Turn } from "./transcript";

/** Drives one conversation: sending with streaming, stop, new chat; the parts keep the rest. */
export class ChatController implements vscode.Disposable {
  private readonly transcript: Transcript;
  private readonly info: FolderInfo;
  /** Which folder's conversation is shown. */
  readonly folders: FolderFollower;
  /** The models on offer and the shown folder's choice. */
  readonly models: ModelPicker;
  private readonly selections = new Selections();
  private readonly actions: ErrorActionHandlers;
  private cancel: vscode.CancellationTokenSource | undefined;
  private lastSent: { text: string; attachments: PendingAttachment[] } | undefined;
  private poster: ((m: HostMessage) => void) | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Whether a reply is being written or rate limited. */
  readonly status = new ReplyStatus();
  /** Fires when the model of the shown folder changes (picked here, elsewhere, or the setting). */
  readonly onDidChangeModel: vscode.Event<string | undefined>;

  constructor(private readonly daemon: DaemonClient) {
    this.transcript = new Transcript({ post: (m) => this.post(m), redraw: () => this.postSnapshot() });
    this.folders = new FolderFollower(
      {
        switched: async () => {
          this.transcript.clear();
          this.info.clear();
          await this.refresh();
        },
        replaced: () => void this.refresh(),
        listChanged: () => this.postSnapshot(),
      },
      () => this.busy,
    );
    this.info = new FolderInfo(() => this.folders.uri());
    this.onDidChangeModel = this.info.onDidChangeModel;
    this.models = new ModelPicker(daemon, this.folders, this.info, async (api) => {
      this.postHeader();
      if (api !== undefined) await this.refreshHeader(api);
    });
    this.actions = {
      selectModel: () => this.models.pick(),
      retry: async () => {
        if (this.lastSent !== undefined) await this.send(this.lastSent.text, this.lastSent.attachments);
      },
      showLog: () => this.daemon.output.show(true),
    };
    this.disposables.push(
      this.folders,
      this.selections,
      this.info,
      this.status,
      daemon.onDidChangeState((state) => {
        if (state === "running") void this.refresh();
        else this.postSnapshot();
      }),
    );
  }

  get busy(): boolean {
    return this.cancel !== undefined;
  }

  /** Connect (or with undefined, disconnect) the webview. */
  attach(poster: ((m: HostMessage) => void) | undefined): void {
    this.poster = poster;
  }

  /** Handle one message from the webview. */
  async handle(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case "ready":
        this.postSnapshot();
        await this.refresh();
        break;
      case "send":
        await this.send(message.text);
        break;
      case "stop":
        this.stop();
        break;
      case "newChat":
        await this.newChat();
        break;
      case "selectModel":
        await this.models.choose(message.model);
        break;
      case "switchWorkspace":
        await this.folders.pick();
        break;
      case "removeAttachment":
        this.selections.remove(message.index);
        this.postSnapshot();
        break;
      case "copy":
        await vscode.env.clipboard.writeText(message.text);
        void vscode.window.setStatusBarMessage("Copied to clipboard", 2000);
        break;
      case "insert":
        await this.selections.insertAtCursor(message.text);
        break;
      case "openFile":
        // Only what the daemon reported: the webview does not get to open arbitrary files.
        if (this.info.isContextFile(message.path)) {
          await vscode.window.showTextDocument(vscode.Uri.file(message.path), { preview: true });
        }
        break;
      case "action":
        await runErrorAction(message.action, this.actions);
        break;
    }
  }

  /** Reload the conversation and the model list from the daemon. */
  async refresh(): Promise<void> {
    const api = this.daemon.api;
    if (api === undefined) {
      this.postSnapshot();
      return;
    }
    await Promise.all([this.loadHistory(api), this.models.load(api), this.info.loadContextFiles(api)]);
    this.postSnapshot();
    await this.info.loadContextUse(api);
    this.postHeader();
  }

  /** Send a message with the pending attachments (a retry: with its own) and stream the reply. */
  async send(text: string, again?: PendingAttachment[]): Promise<void> {
    if (this.busy) return;
    const pending = this.selections.take();
    const attachments = again ?? pending;
    this.lastSent = { text, attachments };
    const turn = this.transcript.begin(
      text,
      attachments.map((a) => a.label),
    );
    this.cancel = new vscode.CancellationTokenSource();
    this.status.set("thinking");
    this.postSnapshot();
    let api: GeminiApi | undefined;
    try {
      api = await this.daemon.require();
      const message = { message: text, attachments: attachments.map((a) => a.attachment) };
      const result = await this.chat(api, turn, message, this.cancel.token);
      await this.transcript.finish(turn, result);
      // Another editor may have picked the model for this folder since: this turn says which it is.
      if (result !== null) this.info.setModel(result.model);
    } catch (err) {
      this.failTurn(turn, err);
    } finally {
      this.cancel?.dispose();
      this.cancel = undefined;
      if (this.status.value === "thinking") this.status.set("idle");
      this.post({ type: "busy", busy: false });
    }
    if (api !== undefined) await this.refreshHeader(api);
  }

  /** Stop the reply being streamed. */
  stop(): void {
    this.cancel?.cancel();
  }

  /** Archive the conversation and start a fresh one. */
  async newChat(): Promise<void> {
    this.stop();
    const api = await this.daemon.ready();
    if (api !== undefined) await api.reset(this.folders.uri());
    this.transcript.clear();
    this.postSnapshot();
    if (api !== undefined) await this.refreshHeader(api);
  }

  /** Attach the editor's selection (uri + range) and focus the chat input. */
  async askAboutSelection(editor: vscode.TextEditor | undefined): Promise<void> {
    if (editor === undefined) {
      void vscode.window.showInformationMessage("Open a file and select some code to ask about.");
      return;
    }
    const folder = await this.folders.showFolderOf(editor);
    this.selections.attach(editor, folder);
    await vscode.commands.executeCommand("geminiChat.chatView.focus");
    this.postSnapshot();
    this.post({ type: "focusInput" });
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) d.dispose();
  }

  private chat(
    api: GeminiApi,
    turn: Turn,
    message: Pick<ChatParams, "message" | "attachments">,
    token: vscode.CancellationToken,
  ): Promise<ChatResult | null> {
    const params: Omit<ChatParams, "partialResultToken" | "workDoneToken"> = { ...message };
    const workspace = this.folders.uri();
    if (workspace !== undefined) params.workspace = workspace;
    const generationConfig = turnGenerationConfig(readSettings());
    if (generationConfig !== undefined) params.generationConfig = generationConfig;
    return api.chat(
      params,
      {
        onDelta: (delta) => this.transcript.delta(turn, delta),
        onWorkDone: (value) => this.status.progress(value),
      },
      token,
    );
  }

  private failTurn(turn: Turn, err: unknown): void {
    const error = shownError(err);
    this.transcript.fail(turn, error);
    if (error.kind === "cancelled") return;
    this.status.set(error.reason === "rateLimited" ? "rateLimited" : "idle");
  }

  private async loadHistory(api: GeminiApi): Promise<void> {
    const workspace = this.folders.uri();
    try {
      const history = await api.history(workspace);
      const entries = await this.transcript.fromHistory(history.turns);
      if (workspace !== this.folders.uri()) return;
      if (history.model !== undefined) this.info.setModel(history.model);
      // A reply in flight belongs to the transcript until the daemon commits it.
      if (!this.busy) this.transcript.replace(entries);
    } catch (err) {
      this.transcript.showError(describeError(err));
    }
  }

  /** After a turn, a new chat or a model change: context files and the context window again. */
  private async refreshHeader(api: GeminiApi): Promise<void> {
    await this.info.loadContextFiles(api);
    await this.info.loadContextUse(api);
    this.postHeader();
  }

  private header(): HeaderState {
    const header: HeaderState = {
      workspaceName: this.folders.displayName(),
      canSwitchWorkspace: this.folders.canSwitch(),
      model: this.models.current(),
      models: this.models.choices,
      contextFiles: this.info.contextFiles,
    };
    if (this.info.context !== undefined) header.context = this.info.context;
    return header;
  }

  private postHeader(): void {
    this.post({ type: "header", header: this.header() });
  }

  private snapshot(): ViewState {
    const state: ViewState = {
      ...this.header(),
      entries: this.transcript.entries,
      busy: this.busy,
      attachments: this.selections.labels(),
    };
    const failure = this.daemon.state === "failed" ? this.daemon.error : undefined;
    if (failure !== undefined) state.notice = { message: failure, action: "openSettings" };
    return state;
  }

  private postSnapshot(): void {
    this.post({ type: "snapshot", state: this.snapshot() });
  }

  private post(message: HostMessage): void {
    this.poster?.(message);
  }
}
