/** A stored question's attachments back as files of the folder: to send it again, or to apply code there. */

import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import { fileAttachment, type PendingAttachment, relativeIn } from "./attachments";
import { parseAttachmentName } from "./codeEdit";
import type { ApplyTarget } from "./codeOut";
import type { ImageAsk } from "./imageAsk";
import type { Entry } from "./messages";
import type { ImagenAsk } from "./protocol";
import type { Question } from "./sender";

/**
 * The file a stored attachment's path names, when it is a file inside the folder: a name from the
 * store ("../x", however it got there) never leads outside it (Apply writes where this points).
 */
async function folderFile(folder: vscode.WorkspaceFolder, path: string): Promise<vscode.Uri | undefined> {
  const uri = vscode.Uri.joinPath(folder.uri, ...path.split("/"));
  if (relativeIn(folder, uri) === undefined) return undefined;
  try {
    return (await fs.stat(uri.fsPath)).isFile() ? uri : undefined;
  } catch {
    return undefined;
  }
}

/** A stored attachment's name ("src/a.py:11-20") as the file it names, when it is one of the folder's. */
async function fromName(
  folder: vscode.WorkspaceFolder,
  name: string,
): Promise<PendingAttachment | undefined> {
  const { path, lines } = parseAttachmentName(name);
  const uri = await folderFile(folder, path);
  if (uri === undefined) return undefined;
  if (lines === undefined) return fileAttachment(folder, uri);
  const range = { start: { line: lines[0], character: 0 }, end: { line: lines[1] + 1, character: 0 } };
  const target = { uri: uri.toString(), lines };
  return { view: { name }, attachment: { uri: uri.toString(), range }, target };
}

/**
 * The question of an interrupted turn, to send again: an image request as Imagen's again (the
 * same prompt, count, shape and model), else its files attached again where they still are.
 */
export async function resendQuestion(
  folder: vscode.WorkspaceFolder | undefined,
  user: Entry,
): Promise<Question> {
  if (user.imagen !== undefined)
    return { text: user.text, attachments: [], image: imageAgain(user.text, user.imagen) };
  const attachments: PendingAttachment[] = [];
  for (const a of user.attachments ?? []) {
    const again = folder === undefined ? undefined : await fromName(folder, a.name);
    if (again !== undefined) attachments.push(again);
  }
  return { text: user.text, attachments };
}

/** What an interrupted image request asked for, as `gemini/generateImage` takes it. */
function imageAgain(prompt: string, asked: ImagenAsk): ImageAsk {
  const ask: ImageAsk = { prompt, numberOfImages: asked.numberOfImages };
  if (asked.model !== "") ask.model = asked.model;
  if (asked.aspectRatio !== undefined) ask.aspectRatio = asked.aspectRatio;
  return ask;
}

/** Where a stored question's code applies: the first attached range, else the first attached file. */
export async function targetFromHistory(
  folder: vscode.WorkspaceFolder | undefined,
  user: Entry | undefined,
): Promise<ApplyTarget | undefined> {
  if (folder === undefined || user === undefined) return undefined;
  // Only text of the folder: a pasted image or a PDF is not where code goes.
  const names = (user.attachments ?? [])
    .filter((a) => a.mimeType === undefined || a.mimeType.startsWith("text/"))
    .map((a) => parseAttachmentName(a.name));
  const files = (
    await Promise.all(names.map(async (p) => ({ ...p, uri: await folderFile(folder, p.path) })))
  ).filter((p) => p.uri !== undefined);
  const chosen = files.find((p) => p.lines !== undefined) ?? files[0];
  if (chosen?.uri === undefined) return undefined;
  const uri = chosen.uri.toString();
  return chosen.lines === undefined ? { uri } : { uri, lines: chosen.lines };
}
