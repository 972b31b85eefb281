/** The host side of the input area: attachments (picker, drop, paste, `#`, the active file) and the draft. */

import * as path from "node:path";
import * as vscode from "vscode";
import {
  dataAttachment,
  fileAttachment,
  type PendingAttachment,
  PendingAttachments,
  pickFiles,
  relativeIn,
  selectionAttachment,
} from "./attachments";
import type { Draft } from "./contextMeter";
import { WorkspaceFiles } from "./fileSearch";
import type { HostMessage, ViewMessage } from "./messages";

/** What the composer needs from the chat. */
export interface ComposerHost {
  folder(): vscode.WorkspaceFolder | undefined;
  post(message: HostMessage): void;
  /** The draft or its attachments changed (the context meter may count them). */
  draftChanged(draft: Draft): void;
}

/** Attachments waiting for the next message and the draft they go with. */
export class Composer implements vscode.Disposable {
  readonly pending: PendingAttachments;
  private readonly files = new WorkspaceFiles();
  private draft = "";
  private active: vscode.Uri | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly host: ComposerHost) {
    this.pending = new PendingAttachments(() => this.changed());
    this.active = fileOf(vscode.window.activeTextEditor);
    this.subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
      const file = fileOf(editor);
      // The chat view and diff editors leave the last file as the one offered.
      if (file === undefined || file.toString() === this.active?.toString()) return;
      this.active = file;
      this.postComposer();
    });
  }

  /** The active editor's file, when it can be attached and is not yet. */
  activeFile(): string | undefined {
    const folder = this.host.folder();
    if (this.active === undefined || folder === undefined || this.pending.has(this.active)) return undefined;
    return relativeIn(folder, this.active);
  }

  /** Handle a message from the input area; false when it is not one of its. */
  async handle(message: ViewMessage): Promise<boolean> {
    switch (message.type) {
      case "removeAttachment":
        this.pending.remove(message.index);
        return true;
      case "attachFiles":
        await this.attachPicked();
        return true;
      case "attachActive":
        if (this.active !== undefined) await this.attachUris([this.active]);
        return true;
      case "attachPath":
        await this.attachPath(message.path);
        return true;
      case "attachUris":
        await this.attachUris(message.uris.map((u) => vscode.Uri.parse(u)));
        return true;
      case "attachData":
        this.pending.add(dataAttachment(message.name, message.mimeType, message.data));
        return true;
      case "searchFiles":
        await this.search(message.query);
        return true;
      case "draft":
        this.draft = message.text;
        this.host.draftChanged(this.current());
        return true;
      default:
        return false;
    }
  }

  /** Attach `editor`'s selection (Ask about Selection). */
  attachSelection(editor: vscode.TextEditor): void {
    this.pending.add(selectionAttachment(editor, this.host.folder()));
  }

  /** The attachments for the message being sent (the draft is empty again). */
  take(): PendingAttachment[] {
    this.draft = "";
    return this.pending.take();
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private current(): Draft {
    return { message: this.draft, attachments: this.pending.attachments };
  }

  private changed(): void {
    this.postComposer();
    this.host.draftChanged(this.current());
  }

  private postComposer(): void {
    const message: HostMessage = { type: "composer", attachments: this.pending.views };
    const active = this.activeFile();
    if (active !== undefined) message.activeFile = active;
    this.host.post(message);
  }

  private async attachPicked(): Promise<void> {
    const folder = this.host.folder();
    if (folder === undefined) {
      void vscode.window.showInformationMessage("Open a folder to attach its files.");
      return;
    }
    await this.attachUris(await pickFiles(folder));
    this.host.post({ type: "focusInput" });
  }

  private async attachPath(rel: string): Promise<void> {
    const folder = this.host.folder();
    if (folder !== undefined) await this.attachUris([vscode.Uri.joinPath(folder.uri, ...rel.split("/"))]);
  }

  /** Files of the shown folder, each once; anything else is refused with the reason. */
  private async attachUris(uris: vscode.Uri[]): Promise<void> {
    const folder = this.host.folder();
    if (folder === undefined) return;
    for (const uri of uris) {
      if (this.pending.has(uri)) continue;
      try {
        this.pending.add(await fileAttachment(folder, uri));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        void vscode.window.showWarningMessage(`Not attached: ${why}`);
      }
    }
  }

  private async search(query: string): Promise<void> {
    const folder = this.host.folder();
    const files = folder === undefined ? [] : await this.files.search(folder, query);
    this.host.post({ type: "files", query, files });
  }
}

function fileOf(editor: vscode.TextEditor | undefined): vscode.Uri | undefined {
  const uri = editor?.document.uri;
  return uri?.scheme === "file" && path.isAbsolute(uri.fsPath) ? uri : undefined;
}
