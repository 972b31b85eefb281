/** Attachment chips: in the composer (removable) and in a sent message. A thumbnail for images. */

import type { AttachmentView } from "../../src/messages";
import { el, icon } from "./dom";
import { byteSize } from "./format";

/** The codicon for an attachment's kind. */
function kindIcon(a: AttachmentView): string {
  const mime = a.mimeType ?? "";
  if (mime.startsWith("image/")) return "file-media";
  if (mime === "application/pdf") return "file-pdf";
  if (mime.startsWith("audio/")) return "unmute";
  if (mime.startsWith("video/")) return "device-camera-video";
  return /:\d+-\d+$/.test(a.name) ? "selection" : "file-code";
}

/** One chip: thumbnail or icon, the name (its last part; the whole in the tooltip), the size. */
export function chip(a: AttachmentView, tag: "li" | "span" = "span"): HTMLElement {
  const node = el(tag, "chip");
  if (a.thumb !== undefined) {
    const img = el("img", "chip-thumb");
    img.src = a.thumb;
    img.alt = "";
    node.append(img);
  } else {
    node.append(icon(kindIcon(a)));
  }
  const short = a.name.split("/").pop() ?? a.name;
  node.append(el("span", "chip-name", short));
  if (a.size !== undefined) node.append(el("span", "chip-size", byteSize(a.size)));
  node.title = a.size === undefined ? a.name : `${a.name} (${byteSize(a.size)})`;
  return node;
}

/** The chips of a sent message. */
export function chipRow(items: AttachmentView[]): HTMLElement {
  const row = el("div", "entry-attachments");
  row.append(...items.map((a) => chip(a)));
  return row;
}
