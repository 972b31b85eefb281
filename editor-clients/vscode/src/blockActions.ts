/** A reply's code block buttons, sent by the view: Copy, Insert at the cursor, Apply through a diff. */

import * as vscode from "vscode";
import { describeError } from "./api";
import type { ApplyTarget, CodeOut } from "./codeOut";
import type { ViewMessage } from "./messages";

/**
 * Run a code block's button; false when `message` is not one. `target(replyId)`: where the
 * reply's code applies (the lines its question was about).
 */
export async function codeBlockAction(
  message: ViewMessage,
  code: CodeOut,
  target: (replyId: string) => Promise<ApplyTarget | undefined>,
): Promise<boolean> {
  switch (message.type) {
    case "copy":
      await vscode.env.clipboard.writeText(message.text);
      void vscode.window.setStatusBarMessage("Copied to clipboard", 2000);
      return true;
    case "insert":
      await code.insert(message.text);
      return true;
    case "apply":
      try {
        await code.apply(message.text, await target(message.id));
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not apply the code: ${describeError(err).message}`);
      }
      return true;
    default:
      return false;
  }
}
