/** The conversation as the webview shows it: history turns to entries, reply images to data: URIs. */

import { promises as fs } from "node:fs";
import type { Entry, ImageView } from "./messages";
import type { HistoryTurn, ImageRef } from "./protocol";

/** Image types a webview shows inline; anything else is shown by its path. */
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

/** Larger images are shown by their path: a data: URI travels in every snapshot. */
const MAX_INLINE_BYTES = 8 * 1024 * 1024;

/** Reads reply images (saved by the daemon under its dataDir, same machine) once each. */
export class ImageCache {
  private readonly cache = new Map<string, Promise<ImageView>>();

  /** The image as the webview shows it; never rejects (an unreadable file keeps only its path). */
  view(ref: ImageRef): Promise<ImageView> {
    let found = this.cache.get(ref.path);
    if (found === undefined) {
      found = readImage(ref);
      this.cache.set(ref.path, found);
    }
    return found;
  }

  /** All of `refs`, in order. */
  views(refs: readonly ImageRef[] | undefined): Promise<ImageView[]> {
    return Promise.all((refs ?? []).map((r) => this.view(r)));
  }

  /** Forget the read images (a new conversation). */
  clear(): void {
    this.cache.clear();
  }
}

async function readImage(ref: ImageRef): Promise<ImageView> {
  const view: ImageView = { mimeType: ref.mimeType, path: ref.path };
  if (!INLINE_TYPES.has(ref.mimeType)) return view;
  try {
    const stat = await fs.stat(ref.path);
    if (!stat.isFile() || stat.size > MAX_INLINE_BYTES) return view;
    const data = await fs.readFile(ref.path);
    view.src = `data:${ref.mimeType};base64,${data.toString("base64")}`;
  } catch {
    // Deleted or unreadable: the path is still worth showing.
  }
  return view;
}

/** One history turn as an entry (without images; they are read separately). */
function turnEntry(turn: HistoryTurn, id: string): Entry {
  const entry: Entry = { id, role: turn.role, text: turn.text };
  const names = (turn.attachments ?? []).map((a) => a.name);
  if (names.length > 0) entry.attachments = names;
  if (turn.usage !== undefined) entry.usage = turn.usage;
  if (turn.model !== undefined && turn.role === "model") entry.model = turn.model;
  if (turn.thoughts !== undefined && turn.thoughts !== "") entry.thoughts = turn.thoughts;
  if (turn.toolCalls !== undefined && turn.toolCalls.length > 0) entry.tools = turn.toolCalls;
  return entry;
}

/** History turns as entries; a compaction (user turn marked `compacted` + summary) becomes one divider. */
export async function historyEntries(turns: readonly HistoryTurn[], images: ImageCache): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < turns.length; i += 1) {
    const turn = turns[i] as HistoryTurn;
    if (turn.role === "user" && turn.compacted !== undefined) {
      const summary = turns[i + 1]?.role === "model" ? (turns[i + 1] as HistoryTurn) : undefined;
      entries.push({ id: `h${i}`, role: "compacted", text: summary?.text ?? "", turns: turn.compacted });
      if (summary !== undefined) i += 1;
      continue;
    }
    const entry = turnEntry(turn, `h${i}`);
    if (turn.images !== undefined && turn.images.length > 0) entry.images = await images.views(turn.images);
    entries.push(entry);
  }
  return entries;
}
