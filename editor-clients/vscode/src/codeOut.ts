/** A reply's code into the editor: Insert at the cursor re-indented; Apply through a diff, Accept or Discard. */

import * as path from "node:path";
import * as vscode from "vscode";
import { asWholeFile, changedSpan, type IndentStyle, insertAt, isWholeFile, replaceLines } from "./codeEdit";

/** The right side of the review diff: the file as it would be with the block applied. */
export const PROPOSED_SCHEME = "gemini-chat-proposed";
const REVIEWING = "geminiChat.reviewing";

/** Where a reply's code goes: the file (and lines, 0-based inclusive) its question was about. */
export interface ApplyTarget {
  uri: string;
  lines?: [number, number];
}

/** A change shown in the diff editor, waiting for Accept or Discard. */
interface Review {
  file: vscode.Uri;
  original: string;
  proposed: string;
  proposedUri: vscode.Uri;
}

let reviewCounter = 0;

/** Inserts and applies code blocks; provides the proposed side of the diff. */
export class CodeOut implements vscode.Disposable, vscode.TextDocumentContentProvider {
  // The chat view takes the focus: code goes to the text editor used last.
  private lastEditor = usable(vscode.window.activeTextEditor);
  private review: Review | undefined;
  private readonly subscriptions: vscode.Disposable[];
  /** While a change waits: Accept and Discard in the status bar too (beside the diff's title actions). */
  private readonly buttons = [
    button(
      "geminiChat.acceptChange",
      "$(check) Accept",
      "Write Gemini's change into the file (Undo takes it back)",
      1001,
    ),
    button("geminiChat.discardChange", "$(discard) Discard", "Close the diff; the file stays as it is", 1000),
  ];

  constructor() {
    this.subscriptions = [
      ...this.buttons,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.lastEditor = usable(editor) ?? this.lastEditor;
      }),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        // The user closed the diff: the change is discarded.
        if (this.review !== undefined && e.closed.some((t) => this.isReviewTab(t))) void this.endReview();
      }),
    ];
  }

  /** The last text editor of a real file (or an untitled one), if still open. */
  get editor(): vscode.TextEditor | undefined {
    const editor = usable(vscode.window.activeTextEditor) ?? this.lastEditor;
    return editor === undefined || editor.document.isClosed ? undefined : editor;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.review?.proposedUri.toString() === uri.toString() ? this.review.proposed : "";
  }

  /** Put `block` at the cursor(s) of the last editor, re-indented to the cursor's line. */
  async insert(block: string): Promise<void> {
    const editor = this.editor;
    if (editor === undefined) {
      void vscode.window.showInformationMessage("Open an editor to insert the code into.");
      return;
    }
    const shown = await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    const style = styleOf(shown);
    await shown.edit((edit) => {
      for (const selection of shown.selections) {
        const { range, text } = insertion(shown.document, selection, block, style);
        edit.replace(range, text);
      }
    });
  }

  /** Show the file beside the file with `block` applied; nothing is written until Accept. */
  async apply(block: string, target: ApplyTarget | undefined): Promise<void> {
    const proposal = await this.propose(block, target);
    if (proposal === undefined) {
      void vscode.window.showInformationMessage(
        "Open the file the code is for, with the cursor where it goes.",
      );
      return;
    }
    const [document, proposed] = proposal;
    if (proposed === document.getText()) {
      void vscode.window.showInformationMessage(
        `${path.basename(document.uri.fsPath)} already has this code.`,
      );
      return;
    }
    await this.endReview();
    reviewCounter += 1;
    const proposedUri = vscode.Uri.from({
      scheme: PROPOSED_SCHEME,
      path: document.uri.path,
      query: String(reviewCounter),
    });
    this.review = { file: document.uri, original: document.getText(), proposed, proposedUri };
    await vscode.commands.executeCommand("setContext", REVIEWING, true);
    for (const b of this.buttons) b.show();
    const title = `${path.basename(document.uri.fsPath)}: Gemini's change`;
    await vscode.commands.executeCommand("vscode.diff", document.uri, proposedUri, title, { preview: false });
  }

  /** Write the reviewed change into the file (one undoable edit), save it, and show it. */
  async accept(): Promise<void> {
    const review = this.review;
    if (review === undefined) return;
    const document = await vscode.workspace.openTextDocument(review.file);
    if (document.getText() !== review.original) {
      void vscode.window.showWarningMessage(
        `${path.basename(review.file.fsPath)} changed since the diff was made: Discard it and Apply again.`,
      );
      return;
    }
    const span = changedSpan(review.original, review.proposed);
    const start = document.positionAt(span.start);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(
      review.file,
      new vscode.Range(start, document.positionAt(span.endBefore)),
      review.proposed.slice(span.start, span.endAfter),
    );
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage(`Could not change ${path.basename(review.file.fsPath)}.`);
      return;
    }
    await document.save();
    await this.endReview();
    const end = document.positionAt(span.endAfter);
    await vscode.window.showTextDocument(document, {
      preview: false,
      selection: new vscode.Range(start, end),
    });
  }

  /** Close the diff; the file stays as it was. */
  async discard(): Promise<void> {
    await this.endReview();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }

  private async propose(
    block: string,
    target: ApplyTarget | undefined,
  ): Promise<[vscode.TextDocument, string] | undefined> {
    if (target?.lines !== undefined) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      const [first, last] = target.lines;
      return [document, replaceLines(document.getText(), first, last, block, styleFor(document))];
    }
    const editor = this.editor;
    const document =
      editor?.document ??
      (target === undefined
        ? undefined
        : await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri)));
    if (document === undefined) return undefined;
    const text = document.getText();
    if (isWholeFile(block, text)) return [document, asWholeFile(block, text)];
    if (editor === undefined)
      return [document, `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${block}`];
    const { range, text: inserted } = insertion(document, editor.selection, block, styleOf(editor));
    const before = text.slice(0, document.offsetAt(range.start));
    return [document, before + inserted + text.slice(document.offsetAt(range.end))];
  }

  private isReviewTab(tab: vscode.Tab): boolean {
    return tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.scheme === PROPOSED_SCHEME;
  }

  private async endReview(): Promise<void> {
    if (this.review === undefined) return;
    this.review = undefined;
    for (const b of this.buttons) b.hide();
    await vscode.commands.executeCommand("setContext", REVIEWING, false);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => this.isReviewTab(t));
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
  }
}

function button(command: string, text: string, tooltip: string, priority: number): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem(
    `${command}.status`,
    vscode.StatusBarAlignment.Left,
    priority,
  );
  item.name = "Gemini: review a change";
  item.text = text;
  item.tooltip = tooltip;
  item.command = command;
  return item;
}

function usable(editor: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  const scheme = editor?.document.uri.scheme;
  return scheme === "file" || scheme === "untitled" ? editor : undefined;
}

function styleOf(editor: vscode.TextEditor): IndentStyle {
  const { insertSpaces, tabSize } = editor.options;
  return {
    insertSpaces: insertSpaces !== false,
    tabSize: typeof tabSize === "number" ? tabSize : 4,
  };
}

function styleFor(document: vscode.TextDocument): IndentStyle {
  const shown = vscode.window.visibleTextEditors.find((e) => e.document === document);
  if (shown !== undefined) return styleOf(shown);
  const config = vscode.workspace.getConfiguration("editor", document);
  return {
    insertSpaces: config.get<boolean>("insertSpaces") ?? true,
    tabSize: config.get<number>("tabSize") ?? 4,
  };
}

/** The range a block replaces at `selection`, and its re-indented text. */
function insertion(
  document: vscode.TextDocument,
  selection: vscode.Selection,
  block: string,
  style: IndentStyle,
): { range: vscode.Range; text: string } {
  const line = document.lineAt(selection.start.line);
  let next: string | undefined;
  for (let i = line.lineNumber + 1; i < document.lineCount && next === undefined; i += 1) {
    if (!document.lineAt(i).isEmptyOrWhitespace) next = document.lineAt(i).text;
  }
  const at = insertAt(line.text, selection.start.character, next, block, style);
  const start = new vscode.Position(line.lineNumber, at.from);
  // A selection is replaced whole; an empty one by what insertAt takes of its line.
  const end = selection.isEmpty ? new vscode.Position(line.lineNumber, at.to) : selection.end;
  return { range: new vscode.Range(start, end), text: at.text };
}
