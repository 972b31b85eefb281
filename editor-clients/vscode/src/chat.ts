/** The chat's host side: one conversation view-model per window, driven by the webview and commands. */

import * as path from "node:path";
import * as vscode from "vscode";
import { describeError, type ErrorAction, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import { FolderInfo } from "./folderInfo";
import type { Entry, HeaderState, HostMessage, ModelChoice, ViewMessage, ViewState } from "./messages";
import type { Attachment, ChatDelta, ChatParams, ChatResult, ImageRef } from "./protocol";
import { readSettings, turnGenerationConfig } from "./settings";
import { historyEntries, ImageCache } from "./transcript";

export type ChatStatus = "idle" | "thinking" | "rateLimited";

interface PendingAttachment {
  label: string;
  attachment: Attachment;
}

let entryCounter = 0;

function newId(prefix: string): string {
  entryCounter += 1;
  return `${prefix}${entryCounter}`;
}

/** The daemon's blocked message names its own setting; in VS Code the setting is ours. */
function vscodeWording(message: string): string {
  return message.replace(/\bgemini\.safetySettings\b/g, "geminiChat.safetySettings");
}

/** Drives one conversation: history, sending with streaming, stop, attachments, model, folder. */
export class ChatController implements vscode.Disposable {
  private entries: Entry[] = [];
  private attachments: PendingAttachment[] = [];
  private models: ModelChoice[] = [];
  private readonly info = new FolderInfo(() => this.workspaceUri());
  private readonly images = new ImageCache();
  private folder: vscode.WorkspaceFolder | undefined;
  private pinned = false;
  private cancel: vscode.CancellationTokenSource | undefined;
  private lastSent: { text: string; attachments: PendingAttachment[] } | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  private currentStatus: ChatStatus = "idle";
  private poster: ((m: HostMessage) => void) | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<ChatStatus>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires when a reply starts, ends or is rate limited. */
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** Fires when the model of the shown folder changes (picked here, elsewhere, or the setting). */
  readonly onDidChangeModel = this.info.onDidChangeModel;

  constructor(private readonly daemon: DaemonClient) {
    this.folder = this.folderOf(vscode.window.activeTextEditor);
    this.lastEditor = vscode.window.activeTextEditor;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => this.followEditor(editor)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.onFoldersChanged()),
      daemon.onDidChangeState((state) => {
        if (state === "running") void this.refresh();
        else this.postSnapshot();
      }),
    );
  }

  get status(): ChatStatus {
    return this.currentStatus;
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
        await this.chooseModel(message.model);
        break;
      case "switchWorkspace":
        await this.pickWorkspace();
        break;
      case "removeAttachment":
        this.attachments.splice(message.index, 1);
        this.postSnapshot();
        break;
      case "copy":
        await vscode.env.clipboard.writeText(message.text);
        void vscode.window.setStatusBarMessage("Copied to clipboard", 2000);
        break;
      case "insert":
        await this.insertAtCursor(message.text);
        break;
      case "openFile":
        await this.openContextFile(message.path);
        break;
      case "action":
        await this.runAction(message.action);
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
    await Promise.all([this.loadHistory(api), this.loadModels(api), this.info.loadContextFiles(api)]);
    this.postSnapshot();
    await this.info.loadContextUse(api);
    this.postHeader();
  }

  /** Send a message (with the pending attachments) and stream the reply. */
  async send(text: string, attachments = this.attachments): Promise<void> {
    if (this.busy) return;
    this.attachments = [];
    this.lastSent = { text, attachments };
    const user: Entry = { id: newId("u"), role: "user", text };
    if (attachments.length > 0) user.attachments = attachments.map((a) => a.label);
    const reply: Entry = { id: newId("m"), role: "model", text: "", streaming: true };
    this.entries.push(user, reply);
    this.cancel = new vscode.CancellationTokenSource();
    this.setStatus("thinking");
    this.postSnapshot();
    let api: GeminiApi | undefined;
    try {
      api = await this.daemon.ready();
      if (api === undefined) throw new Error(this.daemon.error ?? "The Gemini chat server is not running.");
      const params = { message: text, attachments: attachments.map((a) => a.attachment) };
      const result = await this.chat(api, user, reply, params, this.cancel.token);
      await this.finishReply(user, reply, result);
    } catch (err) {
      this.failReply(reply, err);
    } finally {
      this.cancel?.dispose();
      this.cancel = undefined;
      if (this.currentStatus === "thinking") this.setStatus("idle");
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
    if (api !== undefined) await api.reset(this.workspaceUri());
    this.entries = [];
    this.images.clear();
    this.postSnapshot();
    if (api !== undefined) await this.refreshHeader(api);
  }

  /** Attach the editor's selection (uri + range) and focus the chat input. */
  async askAboutSelection(editor: vscode.TextEditor | undefined): Promise<void> {
    if (editor === undefined) {
      void vscode.window.showInformationMessage("Open a file and select some code to ask about.");
      return;
    }
    const folder = this.folderOf(editor);
    if (folder !== undefined && folder.uri.toString() !== this.folder?.uri.toString()) {
      await this.setFolder(folder, false);
    }
    this.attachments.push(selectionAttachment(editor, folder));
    await vscode.commands.executeCommand("geminiChat.chatView.focus");
    this.postSnapshot();
    this.post({ type: "focusInput" });
  }

  /** Let the user pick the workspace folder whose conversation is shown. */
  async pickWorkspace(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length < 2) return;
    const picked = await vscode.window.showWorkspaceFolderPick({
      placeHolder: "Show the Gemini conversation of which folder?",
    });
    if (picked !== undefined) await this.setFolder(picked, true);
  }

  /** Offer the daemon's models; the choice sticks to this folder (gemini/setModel). */
  async pickModel(): Promise<void> {
    const api = await this.daemon.ready();
    if (api !== undefined && this.models.length === 0) await this.loadModels(api);
    const current = this.modelName();
    const items: (vscode.QuickPickItem & { name: string | null })[] = this.models.map((m) => ({
      label: m.label,
      description: m.name === current ? `${m.name} (current)` : m.name,
      name: m.name,
    }));
    const setting = readSettings().daemon.model ?? "gemini-2.5-flash";
    items.push(
      { label: "", kind: vscode.QuickPickItemKind.Separator, name: null },
      { label: "$(discard) Use the default", description: `geminiChat.model: ${setting}`, name: null },
    );
    const folder = this.folder?.name;
    const placeHolder = `Gemini model for ${folder === undefined ? "chat" : `the folder ${folder}`}`;
    const picked = await vscode.window.showQuickPick(items, { placeHolder });
    if (picked !== undefined) await this.chooseModel(picked.name);
  }

  /** Make `model` this folder's model in the daemon's store (null: back to the setting). */
  async chooseModel(model: string | null): Promise<void> {
    let api: GeminiApi | undefined;
    try {
      api = await this.daemon.ready();
      if (api === undefined) throw new Error(this.daemon.error ?? "The Gemini chat server is not running.");
      const result = await api.setModel(this.workspaceUri(), model);
      this.info.setModel(result.model);
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not select the model: ${describeError(err).message}`);
    }
    // Also after a failure: puts the webview's picker back on the model in use.
    this.postHeader();
    if (api !== undefined) await this.refreshHeader(api);
  }

  /** The model the next turn uses: the folder's choice, else the setting. */
  modelName(): string {
    return this.info.model ?? readSettings().daemon.model ?? "gemini-2.5-flash";
  }

  /** The model setting changed: a folder without its own choice now uses another model. */
  async onSettingsChanged(): Promise<void> {
    const api = this.daemon.api;
    if (api === undefined) {
      this.postHeader();
      return;
    }
    try {
      const history = await api.history(this.workspaceUri());
      if (history.model !== undefined) this.info.setModel(history.model);
    } catch {
      // The next refresh reports it; the header keeps what it had.
    }
    this.postHeader();
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) d.dispose();
    this.statusEmitter.dispose();
    this.info.dispose();
  }

  private chat(
    api: GeminiApi,
    user: Entry,
    reply: Entry,
    message: Pick<ChatParams, "message" | "attachments">,
    token: vscode.CancellationToken,
  ): Promise<ChatResult | null> {
    const params: Omit<ChatParams, "partialResultToken" | "workDoneToken"> = { ...message };
    const workspace = this.workspaceUri();
    if (workspace !== undefined) params.workspace = workspace;
    const generationConfig = turnGenerationConfig(readSettings());
    if (generationConfig !== undefined) params.generationConfig = generationConfig;
    return api.chat(
      params,
      {
        onDelta: (delta) => this.onDelta(user, reply, delta),
        onWorkDone: (value) => {
          // The daemon reports its retry waits ("retrying in 4 s") as work-done progress.
          if (value.kind === "report" && /retr|rate/i.test(value.message ?? ""))
            this.setStatus("rateLimited");
          else if (value.kind === "report" && this.currentStatus === "rateLimited")
            this.setStatus("thinking");
        },
      },
      token,
    );
  }

  /** One progress value of the reply: a piece of text or thought, a tool call, an image, compaction. */
  private onDelta(user: Entry, reply: Entry, delta: ChatDelta): void {
    if (delta.text !== undefined && delta.text !== "") {
      reply.text += delta.text;
      this.post({ type: "delta", id: reply.id, text: delta.text });
    } else if (delta.thought !== undefined && delta.thought !== "") {
      reply.thoughts = (reply.thoughts ?? "") + delta.thought;
      this.post({ type: "thought", id: reply.id, text: delta.thought });
    } else if (delta.tool !== undefined) {
      reply.tools = [...(reply.tools ?? []), delta.tool];
      this.post({ type: "tool", id: reply.id, tool: delta.tool });
    } else if (delta.image !== undefined) {
      void this.addImage(reply, delta.image);
    } else if (delta.compacted !== undefined) {
      this.markCompacted(user, delta.compacted.turns);
    }
  }

  private async addImage(reply: Entry, ref: ImageRef): Promise<void> {
    const image = await this.images.view(ref);
    // The final result lists every image: once it is in, a late read adds nothing.
    if (reply.streaming !== true || reply.images?.some((i) => i.path === image.path) === true) return;
    reply.images = [...(reply.images ?? []), image];
    this.post({ type: "image", id: reply.id, image });
  }

  /** Put the compaction divider just above the message whose turn compacted the conversation. */
  private markCompacted(user: Entry, turns: number): void {
    const id = `c${user.id}`;
    if (this.entries.some((e) => e.id === id)) return;
    const at = this.entries.indexOf(user);
    const divider: Entry = { id, role: "compacted", text: "", turns };
    this.entries.splice(at < 0 ? this.entries.length : at, 0, divider);
    this.postSnapshot();
  }

  private async finishReply(user: Entry, reply: Entry, result: ChatResult | null): Promise<void> {
    // vscode-languageclient answers a cancelled request with null instead of an error.
    if (result === null) {
      reply.streaming = false;
      reply.stopped = true;
    } else {
      reply.text = result.text;
      reply.model = result.model;
      if (result.usage !== undefined) reply.usage = result.usage;
      if (result.thoughts !== "") reply.thoughts = result.thoughts;
      if (result.toolCalls !== undefined && result.toolCalls.length > 0) reply.tools = result.toolCalls;
      if (result.images !== undefined && result.images.length > 0) {
        reply.images = await this.images.views(result.images);
      }
      reply.streaming = false;
      if (result.compacted !== undefined) this.markCompacted(user, result.compacted.turns);
      // Another editor may have picked the model for this folder since: this turn says which it is.
      this.info.setModel(result.model);
    }
    this.post({ type: "entry", entry: reply });
  }

  private failReply(reply: Entry, err: unknown): void {
    const view = describeError(err);
    reply.streaming = false;
    if (view.kind === "cancelled") {
      reply.stopped = true;
      this.post({ type: "entry", entry: reply });
      return;
    }
    if (reply.text === "") this.entries = this.entries.filter((e) => e.id !== reply.id);
    const text = view.reason === "blocked" ? vscodeWording(view.message) : view.message;
    const error: Entry = { id: newId("e"), role: "error", text, action: view.action };
    this.entries.push(error);
    if (view.reason === "rateLimited") this.setStatus("rateLimited");
    else this.setStatus("idle");
    this.postSnapshot();
  }

  private async runAction(action: ErrorAction): Promise<void> {
    switch (action) {
      case "setApiKey":
        await vscode.commands.executeCommand("geminiChat.setApiKey");
        break;
      case "selectModel":
        await this.pickModel();
        break;
      case "retry":
        if (this.lastSent !== undefined) await this.send(this.lastSent.text, this.lastSent.attachments);
        break;
      case "showLog":
        this.daemon.output.show(true);
        break;
      case "openSettings":
        await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.serverPath");
        break;
      case "openSafetySettings":
        await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.safetySettings");
        break;
      case "none":
        break;
    }
  }

  private async insertAtCursor(text: string): Promise<void> {
    const editor = vscode.window.activeTextEditor ?? this.lastEditor;
    if (editor === undefined || editor.document.isClosed) {
      void vscode.window.showInformationMessage("Open an editor to insert the code into.");
      return;
    }
    const shown = await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    await shown.edit((edit) => {
      for (const selection of shown.selections) edit.replace(selection, text);
    });
  }

  private async openContextFile(file: string): Promise<void> {
    // Only what the daemon reported: the webview does not get to open arbitrary files.
    if (!this.info.isContextFile(file)) return;
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }

  private async loadHistory(api: GeminiApi): Promise<void> {
    const workspace = this.workspaceUri();
    try {
      const history = await api.history(workspace);
      const entries = await historyEntries(history.turns, this.images);
      if (workspace !== this.workspaceUri()) return;
      if (history.model !== undefined) this.info.setModel(history.model);
      // A reply in flight belongs to the transcript until the daemon commits it.
      if (!this.busy) this.entries = entries;
    } catch (err) {
      const view = describeError(err);
      this.entries = [{ id: newId("e"), role: "error", text: view.message, action: view.action }];
    }
  }

  private async loadModels(api: GeminiApi): Promise<void> {
    try {
      const result = await api.models();
      this.models = result.models.map((m) => ({ name: m.name, label: m.displayName ?? m.name }));
    } catch {
      // Without a key the list is unavailable; the picker then shows the configured model only.
      this.models = [];
    }
  }

  /** After a turn, a new chat or a model change: context files and the context window again. */
  private async refreshHeader(api: GeminiApi): Promise<void> {
    await this.info.loadContextFiles(api);
    await this.info.loadContextUse(api);
    this.postHeader();
  }

  private header(): HeaderState {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const header: HeaderState = {
      workspaceName: this.folder?.name ?? folders[0]?.name ?? "",
      canSwitchWorkspace: folders.length > 1,
      model: this.modelName(),
      models: this.models,
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
      entries: this.entries,
      busy: this.busy,
      attachments: this.attachments.map((a) => a.label),
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

  private setStatus(status: ChatStatus): void {
    this.currentStatus = status;
    this.statusEmitter.fire(status);
  }

  private workspaceUri(): string | undefined {
    return this.folder?.uri.toString();
  }

  private folderOf(editor: vscode.TextEditor | undefined): vscode.WorkspaceFolder | undefined {
    const folder =
      editor === undefined ? undefined : vscode.workspace.getWorkspaceFolder(editor.document.uri);
    return folder ?? vscode.workspace.workspaceFolders?.[0];
  }

  private async setFolder(folder: vscode.WorkspaceFolder, pinned: boolean): Promise<void> {
    this.pinned = pinned;
    if (folder.uri.toString() === this.folder?.uri.toString()) return;
    this.folder = folder;
    this.entries = [];
    this.info.clear();
    this.images.clear();
    await this.refresh();
  }

  private followEditor(editor: vscode.TextEditor | undefined): void {
    if (editor === undefined) return;
    this.lastEditor = editor;
    // Multi-root: the conversation follows the active editor's folder unless the user picked one.
    const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
    if (this.pinned || this.busy || folder === undefined) return;
    void this.setFolder(folder, false);
  }

  private onFoldersChanged(): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!folders.some((f) => f.uri.toString() === this.folder?.uri.toString())) {
      this.folder = folders[0];
      this.pinned = false;
      void this.refresh();
    } else this.postSnapshot();
  }
}

/** A selection as the daemon reads it: uri + range inside the workspace, else its text. */
function selectionAttachment(
  editor: vscode.TextEditor,
  folder: vscode.WorkspaceFolder | undefined,
): PendingAttachment {
  const doc = editor.document;
  const sel = editor.selection;
  const name = path.basename(doc.fileName);
  const label = sel.isEmpty ? name : `${name}:${sel.start.line + 1}-${sel.end.line + 1}`;
  const owner = vscode.workspace.getWorkspaceFolder(doc.uri);
  const inside = folder !== undefined && owner?.uri.toString() === folder.uri.toString();
  if (doc.uri.scheme !== "file" || !inside) {
    return { label, attachment: { name: label, text: sel.isEmpty ? doc.getText() : doc.getText(sel) } };
  }
  if (sel.isEmpty) return { label, attachment: { uri: doc.uri.toString() } };
  const range = {
    start: { line: sel.start.line, character: sel.start.character },
    end: { line: sel.end.line, character: sel.end.character },
  };
  return { label, attachment: { uri: doc.uri.toString(), range } };
}
