/** The editor side of the chat: selections attached to the next message, code inserted at the cursor. */

import * as path from "node:path";
import * as vscode from "vscode";
import type { Attachment } from "./protocol";

/** An attachment waiting for the next message, with the label its chip shows. */
export interface PendingAttachment {
  label: string;
  attachment: Attachment;
}

/** The attachments of the next message, and the editor that code is inserted into. */
export class Selections implements vscode.Disposable {
  private pending: PendingAttachment[] = [];
  // The chat's webview takes the focus: "Insert at Cursor" goes to the editor used last.
  private lastEditor = vscode.window.activeTextEditor;
  private readonly subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
    if (editor !== undefined) this.lastEditor = editor;
  });

  /** The chips' labels, in order. */
  labels(): string[] {
    return this.pending.map((a) => a.label);
  }

  /** Attach `editor`'s selection as the daemon reads it for the conversation of `folder`. */
  attach(editor: vscode.TextEditor, folder: vscode.WorkspaceFolder | undefined): void {
    this.pending.push(selectionAttachment(editor, folder));
  }

  /** Drop the attachment at `index` (its chip's close button). */
  remove(index: number): void {
    this.pending.splice(index, 1);
  }

  /** The attachments for the message being sent; the next one starts without any. */
  take(): PendingAttachment[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  /** Replace the selections of the editor used last with `text` (a code block's Insert button). */
  async insertAtCursor(text: string): Promise<void> {
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

  dispose(): void {
    this.subscription.dispose();
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
