/** Things given to the input: an image pasted, files dropped from the explorer or the desktop. */

import { byId, post } from "./state";

/** Larger items are refused here: the daemon takes at most 20 MB of inline data per message. */
const MAX_BYTES = 20 * 1000 * 1000;
let pasted = 0;

const input = byId<HTMLTextAreaElement>("input");
const composer = byId<HTMLElement>("composer");

/** A file's bytes as base64 (FileReader: the webview has no Node). */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function sendFile(file: File, name: string): Promise<void> {
  if (file.size > MAX_BYTES) return;
  post({
    type: "attachData",
    name,
    mimeType: file.type || "application/octet-stream",
    data: await base64Of(file),
  });
}

/** The URIs a drop from VS Code's explorer (or an editor tab) carries. */
export function droppedUris(data: DataTransfer): string[] {
  const uriList = data.getData("text/uri-list");
  if (uriList !== "") {
    return uriList
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  }
  for (const type of ["application/vnd.code.uri-list", "ResourceURLs"]) {
    const raw = data.getData(type);
    if (raw === "") continue;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      return raw.split(/\r?\n/).filter((l) => l !== "");
    }
  }
  return [];
}

input.addEventListener("paste", (event) => {
  const images = Array.from(event.clipboardData?.files ?? []).filter((f) => f.type.startsWith("image/"));
  if (images.length === 0) return;
  // An image (a screenshot) is attached; text on the clipboard beside it is not pasted.
  event.preventDefault();
  for (const image of images) {
    pasted += 1;
    const ext = image.type.split("/")[1] ?? "png";
    const name =
      image.name === "" || image.name === `image.${ext}` ? `pasted-image-${pasted}.${ext}` : image.name;
    void sendFile(image, name);
  }
});

document.body.addEventListener("dragover", (event) => {
  event.preventDefault();
  composer.classList.add("drop-target");
});
document.body.addEventListener("dragleave", () => composer.classList.remove("drop-target"));
document.body.addEventListener("drop", (event) => {
  event.preventDefault();
  composer.classList.remove("drop-target");
  const data = event.dataTransfer;
  if (data === null) return;
  const uris = droppedUris(data);
  if (uris.length > 0) post({ type: "attachUris", uris });
  else for (const file of Array.from(data.files)) void sendFile(file, file.name);
});
