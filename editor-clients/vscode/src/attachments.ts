/** What goes with the next message: selections, files of the folder, pasted or dropped images. */

import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { AttachmentView } from "./messages";
import type { Attachment } from "./protocol";

/** An attachment waiting for the next message: what the daemon gets, what the chip shows. */
export interface PendingAttachment {
  view: AttachmentView;
  attachment: Attachment;
  /** The file and lines (0-based, inclusive) it shows, for applying a reply's code there. */
  target?: { uri: string; lines?: [number, number] };
}

/** Thumbnails are the image itself: only small ones, since they travel in every snapshot. */
const MAX_THUMB_BYTES = 2 * 1024 * 1024;
const THUMB_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

/** Mime types by extension, for the chip's icon and thumbnail (the daemon decides what it sends). */
const MEDIA_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".heic": "image/heic",
  ".pdf": "application/pdf",
  ".mp3": "audio/mp3",
  ".wav": "audio/wav",
  ".ogg": "audio/ogg",
  ".flac": "audio/flac",
  ".mp4": "video/mp4",
  ".mov": "video/mov",
  ".webm": "video/webm",
};

export function mediaType(file: string): string | undefined {
  return MEDIA_TYPES[path.extname(file).toLowerCase()];
}

/** The attachments of the next message; `changed` fires when the chips change. */
export class PendingAttachments {
  private list: PendingAttachment[] = [];

  constructor(private readonly changed: () => void) {}

  get views(): AttachmentView[] {
    return this.list.map((a) => a.view);
  }

  /** The daemon's attachments, for counting the draft's tokens. */
  get attachments(): Attachment[] {
    return this.list.map((a) => a.attachment);
  }

  /** Whether a file (uri) is attached whole already. */
  has(uri: vscode.Uri): boolean {
    return this.list.some(
      (a) => "uri" in a.attachment && a.attachment.uri === uri.toString() && !a.view.name.includes(":"),
    );
  }

  add(item: PendingAttachment): void {
    this.list.push(item);
    this.changed();
  }

  /** Drop the attachment at `index` (its chip's close button). */
  remove(index: number): void {
    this.list.splice(index, 1);
    this.changed();
  }

  /** The attachments for the message being sent; the next one starts without any. */
  take(): PendingAttachment[] {
    const taken = this.list;
    this.list = [];
    this.changed();
    return taken;
  }

  /** Forget them (another folder is shown: they belong to the old one). */
  clear(): void {
    if (this.list.length === 0) return;
    this.list = [];
    this.changed();
  }
}

/** The folder-relative path of `uri`, or undefined when it is outside `folder`. */
export function relativeIn(folder: vscode.WorkspaceFolder, uri: vscode.Uri): string | undefined {
  if (uri.scheme !== folder.uri.scheme) return undefined;
  const rel = path.relative(folder.uri.fsPath, uri.fsPath);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join("/");
}

/** A file of the folder, attached whole (the daemon reads it: text, image, PDF, audio, video). */
export async function fileAttachment(
  folder: vscode.WorkspaceFolder,
  uri: vscode.Uri,
): Promise<PendingAttachment> {
  const rel = relativeIn(folder, uri);
  if (rel === undefined) {
    throw new Error(
      `${path.basename(uri.fsPath)} is not inside the folder ${folder.name}: only its files can be attached.`,
    );
  }
  const stat = await fs.stat(uri.fsPath);
  if (!stat.isFile()) throw new Error(`${rel} is not a file.`);
  const view: AttachmentView = { name: rel, size: stat.size };
  const mime = mediaType(rel);
  if (mime !== undefined) view.mimeType = mime;
  if (mime !== undefined && THUMB_TYPES.has(mime) && stat.size <= MAX_THUMB_BYTES) {
    view.thumb = `data:${mime};base64,${(await fs.readFile(uri.fsPath)).toString("base64")}`;
  }
  return { view, attachment: { uri: uri.toString() }, target: { uri: uri.toString() } };
}

/** Inline data (an image pasted into the input, a file dropped from outside VS Code). */
export function dataAttachment(name: string, mimeType: string, data: string): PendingAttachment {
  const size = Math.floor((data.length * 3) / 4) - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
  const view: AttachmentView = { name, mimeType, size };
  if (THUMB_TYPES.has(mimeType) && size <= MAX_THUMB_BYTES) view.thumb = `data:${mimeType};base64,${data}`;
  return { view, attachment: { name, mimeType, data } };
}

/** A selection as the daemon reads it: uri + range inside the folder, else its text. */
export function selectionAttachment(
  editor: vscode.TextEditor,
  folder: vscode.WorkspaceFolder | undefined,
): PendingAttachment {
  const doc = editor.document;
  const sel = editor.selection;
  const rel = folder === undefined ? undefined : relativeIn(folder, doc.uri);
  const base = rel ?? path.basename(doc.fileName);
  // LSP ranges end before their end: a selection ending at a line's start leaves that line out.
  const last = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line - 1 : sel.end.line;
  const lines: [number, number] = [sel.start.line, last];
  const name = sel.isEmpty ? base : `${base}:${sel.start.line + 1}-${last + 1}`;
  const view: AttachmentView = { name };
  if (doc.uri.scheme !== "file" || rel === undefined) {
    return { view, attachment: { name, text: sel.isEmpty ? doc.getText() : doc.getText(sel) } };
  }
  const uri = doc.uri.toString();
  if (sel.isEmpty) return { view, attachment: { uri }, target: { uri } };
  const range = {
    start: { line: sel.start.line, character: sel.start.character },
    end: { line: sel.end.line, character: sel.end.character },
  };
  return { view, attachment: { uri, range }, target: { uri, lines } };
}

/** Ask for files of the folder to attach (any kind). */
export async function pickFiles(folder: vscode.WorkspaceFolder): Promise<vscode.Uri[]> {
  const picked = await vscode.window.showOpenDialog({
    title: "Attach files to the next message",
    defaultUri: folder.uri,
    canSelectMany: true,
    canSelectFiles: true,
    canSelectFolders: false,
    openLabel: "Attach",
  });
  return picked ?? [];
}
