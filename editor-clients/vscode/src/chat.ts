/** The chat's host side: one conversation view-model per window, driven by the webview and commands. */

import * as vscode from "vscode";
import { describeError, type GeminiApi } from "./api";
import { codeBlockAction } from "./blockActions";
import type { DaemonClient } from "./client";
import { type ApplyTarget, CodeOut } from "./codeOut";
import { Composer } from "./composer";
import { ContextMeter, type Draft, measureHistory } from "./contextMeter";
import { type ErrorActionHandlers, runErrorAction } from "./errors";
import { FolderInfo } from "./folderInfo";
import { FolderFollower, type FolderListener } from "./folders";
import { ConversationHistory } from "./history";
import { isChatResult, type TurnResult } from "./historyEntries";
import { askForImage } from "./imagePrompt";
import { LiveFollower, type LiveHost } from "./live";
import type { HeaderState, HostMessage, ViewMessage, ViewState } from "./messages";
import { ModelPicker } from "./models";
import type { StatusResult } from "./protocol";
import { RateLimitWatch } from "./rateLimit";
import { resendQuestion, targetFromHistory } from "./resend";
import { type Question, Sender, type SenderHost } from "./sender";
import { ReplyStatus } from "./status";
import { Transcript } from "./transcript";

/** Drives one conversation: the parts below keep the rest. */
export class ChatController implements vscode.Disposable {
  readonly transcript: Transcript;
  private readonly info: FolderInfo;
  /** Which folder's conversation is shown. */
  readonly folders: FolderFollower;
  /** The models on offer and the shown folder's choice. */
  readonly models: ModelPicker;
  /** The folder's conversations (History, Export Chat…). */
  readonly history: ConversationHistory;
  /** Code blocks into the editor (Insert, Apply with a diff). */
  readonly code = new CodeOut();
  private readonly composer: Composer;
  private readonly sender: Sender;
  private readonly live: LiveFollower;
  private readonly meter: ContextMeter;
  private readonly actions: ErrorActionHandlers;
  private poster: ((m: HostMessage) => void) | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Whether a reply is being written, rate limited or waiting. */
  readonly status = new ReplyStatus();
  /** The rate limit last met, while it holds (the status bar shows it). */
  readonly rateLimit = new RateLimitWatch();
  /** Fires when the model of the shown folder changes (picked here, elsewhere, or the setting). */
  readonly onDidChangeModel: vscode.Event<string | undefined>;

  constructor(private readonly daemon: DaemonClient) {
    this.transcript = new Transcript({ post: (m) => this.post(m), redraw: () => this.postSnapshot() });
    this.folders = new FolderFollower(this.folderListener(), () => this.busy);
    this.info = new FolderInfo(() => this.folders.uri());
    this.onDidChangeModel = this.info.onDidChangeModel;
    this.meter = new ContextMeter(
      () => this.models.limit(),
      () => this.postHeader(),
    );
    this.models = new ModelPicker(daemon, this.folders, this.info, () => this.postHeader());
    this.history = new ConversationHistory(daemon, this.folders, (id) => this.switchedHere(id));
    this.composer = new Composer({
      folder: () => this.folders.folder,
      post: (m) => this.post(m),
      draftChanged: (draft) => void this.countDraft(draft),
    });
    this.sender = new Sender(this.senderHost());
    this.live = new LiveFollower(this.liveHost());
    this.actions = {
      setApiKey: (id) => this.setApiKeyAndResend(id),
      selectModel: () => this.models.pick(),
      retry: (id) => this.sender.retry(id),
      showLog: () => this.daemon.output.show(true),
    };
    this.disposables.push(this.folders, this.composer, this.code, this.info, this.status);
    this.disposables.push(this.meter, this.rateLimit);
    this.disposables.push(
      daemon.onDidChangeState((state) => {
        if (state === "running") void this.refresh();
        else this.postSnapshot();
      }),
      daemon.onTurnProgress((p) => this.live.turnProgress(p)),
      daemon.onConversationChanged((p) => this.live.conversationChanged(p)),
    );
  }

  get busy(): boolean {
    return this.sender.busy;
  }

  /** Connect (or with undefined, disconnect) the webview. */
  attach(poster: ((m: HostMessage) => void) | undefined): void {
    this.poster = poster;
  }

  /** Handle one message from the webview. */
  async handle(message: ViewMessage): Promise<void> {
    if (await this.composer.handle(message)) return;
    if (await codeBlockAction(message, this.code, (id) => this.applyTarget(id))) return;
    switch (message.type) {
      case "ready":
        // A view shown again: everything that happened while it was hidden is in the transcript.
        this.postSnapshot();
        await this.refresh();
        break;
      case "send": {
        const question = await this.composer.question(message.text);
        if (question !== undefined) await this.sender.send(question);
        break;
      }
      case "stop":
        this.stop();
        break;
      case "unqueue":
        this.sender.unqueue(message.id);
        break;
      case "resend":
        await this.resendInterrupted(message.id);
        break;
      case "newChat":
        await this.newChat();
        break;
      case "selectModel":
        await this.models.choose(message.model);
        break;
      case "allModels":
        await this.models.pickAll();
        break;
      case "switchWorkspace":
        await this.folders.pick();
        break;
      default:
        await this.handleOther(message);
    }
  }

  /** Reload the conversation, the models and the context files from the daemon. */
  async refresh(): Promise<void> {
    const api = this.daemon.api;
    if (api === undefined) {
      this.postSnapshot();
      return;
    }
    await Promise.all([this.models.load(api), this.readStatus(api)]);
    await this.reload(api);
    this.postSnapshot();
  }

  /** Send a question as if typed (tests and commands). */
  send(question: Question): Promise<void> {
    return this.sender.send(question);
  }

  /** Stop the reply being streamed. */
  stop(): void {
    this.sender.stop();
  }

  /** Archive the conversation and start a fresh one. */
  async newChat(): Promise<void> {
    this.stop();
    const api = await this.daemon.ready();
    if (api !== undefined) await api.reset(this.folders.uri());
    this.replaced();
    this.meter.measured(measureHistory([]));
    this.postSnapshot();
  }

  /** Gemini: Generate Image…: Imagen draws, as the conversation's next exchange (like `/image`). */
  async generateImage(): Promise<void> {
    const ask = await askForImage();
    if (ask === undefined) return;
    await vscode.commands.executeCommand("geminiChat.chatView.focus");
    await this.sender.send({ text: ask.prompt, attachments: [], image: ask });
  }

  /** Show the chat with its input focused (a keyboard shortcut). */
  async focus(): Promise<void> {
    await vscode.commands.executeCommand("geminiChat.chatView.focus");
    this.post({ type: "focusInput" });
  }

  /** Attach the editor's selection (uri + range) and focus the chat input. */
  async askAboutSelection(editor: vscode.TextEditor | undefined): Promise<void> {
    if (editor === undefined) {
      void vscode.window.showInformationMessage("Open a file and select some code to ask about.");
      return;
    }
    await this.folders.showFolderOf(editor);
    this.composer.attachSelection(editor);
    await this.focus();
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) d.dispose();
  }

  private folderListener(): FolderListener {
    return {
      switched: async () => {
        this.live.forget();
        this.composer.pending.clear();
        this.composer.jsonMode.folderChanged();
        this.replaced();
        await this.refresh();
      },
      listChanged: () => this.postSnapshot(),
    };
  }

  private senderHost(): SenderHost {
    return {
      transcript: this.transcript,
      status: this.status,
      api: () => this.daemon.require(),
      workspace: () => this.folders.uri(),
      model: () => this.models.currentInfo(),
      turnEnded: (result, api) => this.turnEnded(result, api),
      postBusy: (busy) => this.post({ type: "busy", busy }),
      // An editor of another folder made active while the reply streamed is followed now.
      settled: () => this.folders.followActiveEditor(),
    };
  }

  private liveHost(): LiveHost {
    return {
      transcript: this.transcript,
      shown: () => this.folders.uri(),
      busy: () => this.busy,
      reload: () => this.reloadNow(),
      replaced: () => {
        this.replaced();
        this.postSnapshot();
      },
    };
  }

  private async handleOther(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case "countTokens":
        await this.countDraft(undefined);
        break;
      case "openFile":
        // Only what the daemon reported: the webview does not get to open arbitrary files.
        if (this.info.isContextFile(message.path)) {
          await vscode.window.showTextDocument(vscode.Uri.file(message.path), { preview: true });
        }
        break;
      case "action":
        await runErrorAction(message.action, this.actions, message.id);
        break;
      default:
        break;
    }
  }

  /** Where a reply's code (by the reply's id) applies: the lines its question pointed at. */
  private async applyTarget(replyId: string): Promise<ApplyTarget | undefined> {
    const question = this.transcript.questionOf(replyId);
    const own = question === undefined ? undefined : this.sender.targetOf(question.id);
    return own ?? targetFromHistory(this.folders.folder, question);
  }

  /**
   * A conversation was opened (`id`) or the open one deleted from the History picker: shown at
   * once, named as the one shown, so its notification changes nothing more.
   */
  private async switchedHere(id: string | undefined): Promise<void> {
    this.replaced();
    if (id !== undefined) this.transcript.conversation = id;
    this.postSnapshot();
    await this.reloadNow();
  }

  /** The conversation was replaced (reset, opened, deleted, another folder): its old view goes. */
  private replaced(): void {
    this.transcript.clear();
    this.sender.forget();
    this.meter.clear();
  }

  /** The history again (the daemon said it changed, or a conversation was opened here). */
  private async reloadNow(): Promise<void> {
    const api = this.daemon.api;
    if (api !== undefined) await this.reload(api);
  }

  private async reload(api: GeminiApi): Promise<void> {
    const workspace = this.folders.uri();
    const version = this.transcript.version;
    try {
      const history = await api.history(workspace);
      if (workspace !== this.folders.uri()) return;
      if (history.model !== undefined) this.info.setModel(history.model);
      const changed = await this.transcript.load(history, version);
      // Read before a turn here was stored: read again.
      if (changed === undefined) return this.reload(api);
      if (changed) this.postSnapshot();
      this.meter.measured(measureHistory(history.turns));
    } catch (err) {
      this.transcript.showError(describeError(err));
      this.postSnapshot();
    }
  }

  private async turnEnded(result: TurnResult | null | undefined, api: GeminiApi | undefined): Promise<void> {
    if (result !== undefined && result !== null && isChatResult(result)) {
      // Another editor may have picked the model for this folder since: this turn says which it is.
      // (An image result names its Imagen model, never the folder's chat model.)
      this.info.setModel(result.model);
    }
    if (result?.usage !== undefined) this.meter.replied(result.usage);
    if (result !== undefined && result !== null) this.rateLimit.replied(result.model);
    this.live.turnEnded();
    if (api !== undefined) {
      await this.readStatus(api);
      this.postHeader();
    }
  }

  /** One `gemini/status` for the shown folder: its context files, and the rate limit last met. */
  private async readStatus(api: GeminiApi): Promise<void> {
    const workspace = this.folders.uri();
    let status: StatusResult | undefined;
    try {
      status = await api.status(workspace);
    } catch {
      // An older daemon or one going away: no context chip; the next read tells the rate limit.
    }
    this.info.statusRead(workspace, status);
    this.rateLimit.statusRead(status?.rateLimit);
  }

  /** Count the next request with the draft: asked (undefined: the draft known) at once, else once changes pause. */
  private async countDraft(draft: Draft | undefined): Promise<void> {
    const api = this.daemon.api;
    if (api === undefined) return;
    const key = `${this.models.current()}|${this.transcript.entries.length}`;
    await this.meter.count(api, this.folders.uri(), draft, key);
  }

  private async setApiKeyAndResend(errorId: string | undefined): Promise<void> {
    const set = await vscode.commands.executeCommand<boolean>("geminiChat.setApiKey");
    // The question that met the missing (or wrong) key goes again, once the new key is in.
    if (set === true && this.daemon.state === "running") await this.sender.retry(errorId);
  }

  private async resendInterrupted(replyId: string): Promise<void> {
    const question = this.transcript.questionOf(replyId);
    const reply = this.transcript.find(replyId);
    if (question === undefined || reply?.interrupted === undefined) return;
    this.transcript.resend(replyId.slice("i-m-".length));
    await this.sender.send(await resendQuestion(this.folders.folder, question));
  }

  private header(): HeaderState {
    const header: HeaderState = {
      workspaceName: this.folders.displayName(),
      canSwitchWorkspace: this.folders.canSwitch(),
      workspacePinned: this.folders.isPinned,
      model: this.models.current(),
      models: this.models.choices,
      moreModels: this.models.more,
      contextFiles: this.info.contextFiles,
    };
    const context = this.meter.value;
    if (context !== undefined) header.context = context;
    return header;
  }

  private postHeader(): void {
    this.post({ type: "header", header: this.header() });
  }

  private snapshot(): ViewState {
    const state: ViewState = {
      ...this.header(),
      ...this.composer.state,
      entries: this.transcript.entries,
      busy: this.busy,
    };
    const failure = this.daemon.state === "failed" ? this.daemon.error : undefined;
    if (failure !== undefined) {
      state.notice = { message: failure, action: this.daemon.canInstall ? "installServer" : "openSettings" };
    }
    return state;
  }

  private postSnapshot(): void {
    this.post({ type: "snapshot", state: this.snapshot() });
  }

  private post(message: HostMessage): void {
    this.poster?.(message);
  }
}
