/** The host side of the input area: attachments (picker, drop, paste, `#`, the active file) and the draft. */

import * as path from "node:path";
import * as vscode from "vscode";
import {
  dataAttachment,
  fileAttachment,
  PendingAttachments,
  pickFiles,
  relativeIn,
  selectionAttachment,
} from "./attachments";
import type { Draft } from "./contextMeter";
import { WorkspaceFiles } from "./fileSearch";
import { isImageCommand, parseImageCommand } from "./imageAsk";
import { JsonModeChoice } from "./jsonMode";
import type { HostMessage, ViewMessage, ViewState } from "./messages";
import type { Question } from "./sender";

/** What the composer needs from the chat. */
export interface ComposerHost {
  folder(): vscode.WorkspaceFolder | undefined;
  post(message: HostMessage): void;
  /** The draft or its attachments changed (the context meter may count them). */
  draftChanged(draft: Draft): void;
}

/** Attachments waiting for the next message, the draft they go with, and JSON mode. */
export class Composer implements vscode.Disposable {
  readonly pending: PendingAttachments;
  readonly jsonMode: JsonModeChoice;
  private readonly files = new WorkspaceFiles();
  private draft = "";
  private active: vscode.Uri | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly host: ComposerHost) {
    this.pending = new PendingAttachments(() => this.changed());
    this.jsonMode = new JsonModeChoice(
      () => this.host.folder(),
      () => this.postComposer(),
    );
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
      case "jsonMode":
        this.jsonMode.set(message.on);
        return true;
      case "pickSchema":
        await this.jsonMode.pick();
        this.host.post({ type: "focusInput" });
        return true;
      default:
        return false;
    }
  }

  /** Attach `editor`'s selection (Ask about Selection). */
  attachSelection(editor: vscode.TextEditor): void {
    this.pending.add(selectionAttachment(editor, this.host.folder()));
  }

  /**
   * The message being sent as a question: `/image …` for Imagen (the attachments stay for the
   * next message), else the text with the attachments and JSON mode. A mistyped `/image` or an
   * unreadable schema is said, the text goes back into the input, and nothing is sent.
   */
  async question(text: string): Promise<Question | undefined> {
    if (isImageCommand(text)) {
      const ask = parseImageCommand(text);
      if ("error" in ask) return this.refuse(text, ask.error);
      this.draft = "";
      return { text, attachments: [], image: ask };
    }
    let json: Question["json"];
    try {
      json = await this.jsonMode.request();
    } catch (err) {
      return this.refuse(text, `Not sent: ${err instanceof Error ? err.message : String(err)}.`);
    }
    this.draft = "";
    const question: Question = { text, attachments: this.pending.take() };
    if (json !== undefined) question.json = json;
    return question;
  }

  /** The view's part of the state: the chips, the active file, JSON mode. */
  get state(): Pick<ViewState, "attachments" | "activeFile" | "jsonMode"> {
    const state: Pick<ViewState, "attachments" | "activeFile" | "jsonMode"> = {
      attachments: this.pending.views,
    };
    const active = this.activeFile();
    if (active !== undefined) state.activeFile = active;
    const json = this.jsonMode.view;
    if (json !== undefined) state.jsonMode = json;
    return state;
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
    this.host.post({ type: "composer", ...this.state });
  }

  private refuse(text: string, why: string): undefined {
    void vscode.window.showWarningMessage(why);
    this.host.post({ type: "restoreInput", text });
    return undefined;
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
