/** Errors as the user meets them: worded for VS Code, and the action offered next to each. */

import * as vscode from "vscode";
import { describeError, type ErrorAction, type ErrorView } from "./api";
import type { DaemonClient } from "./client";
import { installWay } from "./installOffer";

function openServerSetting(): Thenable<unknown> {
  return vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.serverPath");
}

/** What an error entry's button does beyond opening a setting (`id`: the error entry). */
export interface ErrorActionHandlers {
  setApiKey(id: string | undefined): Promise<void>;
  selectModel(): Promise<void>;
  retry(id: string | undefined): Promise<void>;
  showLog(): void;
}

/** What works in VS Code to give the key (the daemon's words name its own setting and variable). */
export const KEY_HELP =
  "run “Gemini: Set API Key” (kept in VS Code's secret storage), or start VS Code with GEMINI_API_KEY set";

/**
 * `describeError`, worded for VS Code: the daemon's messages are generic (the `gemini` settings
 * section, environment variables); here they name what the user can do in VS Code.
 */
export function shownError(err: unknown): ErrorView {
  const view = describeError(err);
  switch (view.reason) {
    case "apiKeyMissing":
      return { ...view, message: `No Gemini API key yet: ${KEY_HELP}.` };
    case "apiKeyInvalid":
      return { ...view, message: view.message.replace(/Check the key:.*$/s, `Check the key: ${KEY_HELP}.`) };
    case "blocked":
      return {
        ...view,
        message: view.message.replace(/\bgemini\.safetySettings\b/g, "geminiChat.safetySettings"),
      };
    default:
      return view;
  }
}

/** Run the action an error entry (`id`) or the view's notice offers. */
export async function runErrorAction(
  action: ErrorAction,
  handlers: ErrorActionHandlers,
  id?: string,
): Promise<void> {
  switch (action) {
    case "setApiKey":
      await handlers.setApiKey(id);
      break;
    case "selectModel":
      await handlers.selectModel();
      break;
    case "retry":
      await handlers.retry(id);
      break;
    case "showLog":
      handlers.showLog();
      break;
    case "openSettings":
      await openServerSetting();
      break;
    case "installServer":
      await vscode.commands.executeCommand("geminiChat.installServer");
      break;
    case "openSafetySettings":
      await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.safetySettings");
      break;
    case "none":
      break;
  }
}

/**
 * If the daemon failed to start, say why in a notification: a server that is nowhere (and no
 * setting naming one) is offered for install (it comes with the extension); else the settings or
 * the log.
 */
export async function reportStartFailure(client: DaemonClient): Promise<void> {
  if (client.state !== "failed" || client.error === undefined) return;
  if (client.canInstall) {
    const way = installWay(client.extensionDir, client.venv);
    const offer = way === undefined ? [] : ["Install"];
    const how = way === undefined ? "" : ` Install it now (${way})?`;
    const choice = await vscode.window.showErrorMessage(`${client.error}${how}`, ...offer, "Open Settings");
    if (choice === "Install") await vscode.commands.executeCommand("geminiChat.installServer");
    else if (choice === "Open Settings") await openServerSetting();
    return;
  }
  const choice = await vscode.window.showErrorMessage(client.error, "Open Settings", "Show Log");
  if (choice === "Open Settings") await openServerSetting();
  else if (choice === "Show Log") client.output.show(true);
}
