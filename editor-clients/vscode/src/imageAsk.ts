/**
 * Pictures, without `vscode`: `/image [-n N] [--aspect W:H] [--model NAME] PROMPT` typed in the
 * input (Imagen, `gemini/generateImage`), and which chat models edit images in a turn.
 */

import type { GenerateImageParams, ImagenAsk } from "./protocol";

/** The aspect ratios Imagen takes; the first is its default. */
export const RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"] as const;

/** Imagen makes one to four images per request. */
export const MAX_IMAGES = 4;

export const IMAGE_USAGE = "/image [-n 1-4] [--aspect 1:1|3:4|4:3|9:16|16:9] [--model imagen-…] PROMPT";

/** What `/image` asks Imagen for (the workspace is added when sent). */
export type ImageAsk = Omit<GenerateImageParams, "workspace" | "partialResultToken" | "workDoneToken">;

/** Each option and its other spellings (the terminal client's, so both read alike). */
const OPTIONS: Record<string, keyof ImageAsk> = {
  "-n": "numberOfImages",
  "--count": "numberOfImages",
  "--aspect": "aspectRatio",
  "-a": "aspectRatio",
  "--model": "model",
  "-m": "model",
};

/** Whether `text` is an `/image` command (then `parseImageCommand` reads it). */
export function isImageCommand(text: string): boolean {
  return /^\/image(\s|$)/.test(text.trimStart());
}

/**
 * `/image -n 2 --aspect 16:9 a lighthouse` -> {prompt: "a lighthouse", numberOfImages: 2,
 * aspectRatio: "16:9"}. Options lead (`--` ends them); anything off is an error with the usage.
 */
export function parseImageCommand(text: string): ImageAsk | { error: string } {
  let rest = text
    .trimStart()
    .replace(/^\/image/, "")
    .trim();
  const ask: Partial<ImageAsk> = {};
  while (rest.startsWith("-")) {
    const [word = "", after = ""] = splitWord(rest);
    rest = after;
    if (word === "--") break;
    const [name = "", inline] = word.split(/=(.*)/s, 2);
    const field = OPTIONS[name];
    if (field === undefined) return { error: `Unknown option ${name}. Usage: ${IMAGE_USAGE}` };
    let value = inline;
    if (value === undefined) [value = "", rest] = splitWord(rest);
    const problem = setOption(ask, field, value);
    if (problem !== undefined) return { error: `${problem}. Usage: ${IMAGE_USAGE}` };
  }
  if (rest === "") return { error: `Say what to draw. Usage: ${IMAGE_USAGE}` };
  return { ...ask, prompt: rest };
}

function splitWord(text: string): [string, string] {
  const match = /^(\S*)\s*([\s\S]*)$/.exec(text);
  return [match?.[1] ?? "", match?.[2] ?? ""];
}

function setOption(ask: Partial<ImageAsk>, field: keyof ImageAsk, value: string): string | undefined {
  if (field === "numberOfImages") {
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1 || count > MAX_IMAGES) {
      return `-n takes 1 to ${MAX_IMAGES} images, not “${value}”`;
    }
    ask.numberOfImages = count;
  } else if (field === "aspectRatio") {
    if (!(RATIOS as readonly string[]).includes(value)) {
      return `--aspect takes ${RATIOS.join(", ")}, not “${value}”`;
    }
    ask.aspectRatio = value;
  } else if (field === "model") {
    if (value === "") return "--model needs a model name";
    ask.model = value;
  }
  return undefined;
}

/**
 * Whether a turn on `model` may answer with images: Gemini's own image models (their name says
 * `image`: gemini-2.5-flash-image, gemini-3-pro-image-preview), not Imagen's `imagen-*`, which
 * only draw through gemini/generateImage. The API's model list says nothing more telling.
 */
export function editsImages(model: string): boolean {
  return model.includes("image") && !model.startsWith("imagen");
}

/** "1 image", "2 images". */
export function imageCount(count: number): string {
  return `${count} ${count === 1 ? "image" : "images"}`;
}

/** A history `imagen` marker in words: "Imagen · 2 images · 16:9 · imagen-4.0-generate-001". */
export function imagenLabel(ask: ImagenAsk): string {
  const parts = ["Imagen", imageCount(ask.numberOfImages ?? 1)];
  if (ask.aspectRatio !== undefined) parts.push(ask.aspectRatio);
  if (ask.model !== "") parts.push(ask.model);
  return parts.join(" · ");
}

/**
 * What an image request's reply says until its images come ("Drawing 2 images…"): Imagen streams
 * nothing, so this stands where a chat reply's text would grow (this window's or another's).
 */
export function drawingLabel(ask: { numberOfImages?: number }): string {
  return `Drawing ${imageCount(ask.numberOfImages ?? 1)}…`;
}
