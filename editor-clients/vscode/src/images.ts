/** Reply images as the webview shows them: read from the daemon's files into data: URIs. */

import { promises as fs } from "node:fs";
import type { ImageView } from "./messages";
import type { ImageRef } from "./protocol";

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
