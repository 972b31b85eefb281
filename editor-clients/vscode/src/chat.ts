/** The chat's host side: one conversation view-model per window, driven by the webview and commands. */

import * as path from "node:path";
import * as vscode from "vscode";
import { describeError, type ErrorAction, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import type { Entry, HostMessage, ModelChoice, ViewMessage, ViewState } from "./messages";
import type { Attachment, ChatResult, HistoryTurn } from "./protocol";
import { readSettings, saveModel } from "./settings";

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

function historyEntry(turn: HistoryTurn, index: number): Entry {
  const entry: Entry = { id: `h${index}`, role: turn.role, text: turn.text };
  const names = (turn.attachments ?? []).map((a) => a.name);
  if (names.length > 0) entry.attachments = names;
  if (turn.usage !== undefined) entry.usage = turn.usage;
  return entry;
}

/** Drives one conversation: history, sending with streaming, stop, attachments, model, folder. */
export class ChatController implements vscode.Disposable {
  private entries: Entry[] = [];
  private attachments: PendingAttachment[] = [];
  private models: ModelChoice[] = [];
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
        await saveModel(message.model);
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
    await Promise.all([this.loadHistory(api), this.loadModels(api)]);
    this.postSnapshot();
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
    try {
      const api = await this.daemon.ready();
      if (api === undefined) throw new Error(this.daemon.error ?? "The Gemini chat server is not running.");
      const result = await this.chat(api, reply, text, attachments, this.cancel.token);
      this.finishReply(reply, result);
    } catch (err) {
      this.failReply(reply, err);
    } finally {
      this.cancel?.dispose();
      this.cancel = undefined;
      if (this.currentStatus === "thinking") this.setStatus("idle");
      this.post({ type: "busy", busy: false });
    }
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
    this.postSnapshot();
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

  /** Offer the daemon's models and store the choice in settings. */
  async pickModel(): Promise<void> {
    const api = await this.daemon.ready();
    if (api !== undefined && this.models.length === 0) await this.loadModels(api);
    const current = this.modelName();
    const items = this.models.map((m) => ({
      label: m.label,
      description: m.name === current ? `${m.name} (current)` : m.name,
      name: m.name,
    }));
    const picked = await vscode.window.showQuickPick(items, { placeHolder: "Gemini model for chat" });
    if (picked !== undefined) await saveModel(picked.name);
  }

  /** The model in use (from settings). */
  modelName(): string {
    return readSettings().daemon.model ?? "gemini-2.5-flash";
  }

  /** Settings changed: redraw the model picker. */
  onSettingsChanged(): void {
    this.postSnapshot();
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) d.dispose();
    this.statusEmitter.dispose();
  }

  private chat(
    api: GeminiApi,
    reply: Entry,
    text: string,
    attachments: PendingAttachment[],
    token: vscode.CancellationToken,
  ): Promise<ChatResult | null> {
    const params = { message: text, attachments: attachments.map((a) => a.attachment) };
    const workspace = this.workspaceUri();
    return api.chat(
      workspace === undefined ? params : { ...params, workspace },
      {
        onDelta: (delta) => {
          if (delta.text === undefined || delta.text === "") return;
          reply.text += delta.text;
          this.post({ type: "delta", id: reply.id, text: delta.text });
        },
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

  private finishReply(reply: Entry, result: ChatResult | null): void {
    reply.streaming = false;
    // vscode-languageclient answers a cancelled request with null instead of an error.
    if (result === null) {
      reply.stopped = true;
    } else {
      reply.text = result.text;
      reply.model = result.model;
      if (result.usage !== undefined) reply.usage = result.usage;
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
    const error: Entry = { id: newId("e"), role: "error", text: view.message, action: view.action };
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

  private async loadHistory(api: GeminiApi): Promise<void> {
    try {
      const history = await api.history(this.workspaceUri());
      // A reply in flight belongs to the transcript until the daemon commits it.
      if (!this.busy) this.entries = history.turns.map(historyEntry);
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

  private snapshot(): ViewState {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const state: ViewState = {
      entries: this.entries,
      busy: this.busy,
      workspaceName: this.folder?.name ?? folders[0]?.name ?? "",
      canSwitchWorkspace: folders.length > 1,
      model: this.modelName(),
      models: this.models,
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
