/** "Gemini: Generate Image…": what to draw and its shape, asked in VS Code's own inputs. */

import * as vscode from "vscode";
import { type ImageAsk, RATIOS } from "./imageAsk";

const SHAPES: Record<(typeof RATIOS)[number], string> = {
  "1:1": "square",
  "3:4": "portrait",
  "4:3": "landscape",
  "9:16": "tall",
  "16:9": "wide",
};

/** The prompt, then the aspect ratio (square first: Enter takes it); undefined when cancelled. */
export async function askForImage(): Promise<ImageAsk | undefined> {
  const prompt = await vscode.window.showInputBox({
    title: "Generate an image (Imagen)",
    prompt: "What to draw. The image joins the conversation; /image in the chat does the same.",
    placeHolder: "a lighthouse at dusk, watercolour",
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === "" ? "Say what to draw" : undefined),
  });
  if (prompt === undefined || prompt.trim() === "") return undefined;
  const items = RATIOS.map((ratio) => ({ label: ratio, description: SHAPES[ratio], ratio }));
  const shape = await vscode.window.showQuickPick(items, {
    title: "Generate an image (Imagen)",
    placeHolder: "Aspect ratio",
  });
  if (shape === undefined) return undefined;
  const ask: ImageAsk = { prompt: prompt.trim() };
  // Imagen's default is square: sent only when another shape is asked for.
  if (shape.ratio !== RATIOS[0]) ask.aspectRatio = shape.ratio;
  return ask;
}
