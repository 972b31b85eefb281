/** Errors as the user meets them: worded for VS Code, and the action offered next to each. */

import * as vscode from "vscode";
import { describeError, type ErrorAction, type ErrorView } from "./api";
import type { DaemonClient } from "./client";

/** What an error entry's button does beyond opening a command or a setting. */
export interface ErrorActionHandlers {
  selectModel(): Promise<void>;
  retry(): Promise<void>;
  showLog(): void;
}

/** `describeError`, worded for VS Code: the daemon's blocked message names its own setting. */
export function shownError(err: unknown): ErrorView {
  const view = describeError(err);
  if (view.reason !== "blocked") return view;
  return {
    ...view,
    message: view.message.replace(/\bgemini\.safetySettings\b/g, "geminiChat.safetySettings"),
  };
}

/** Run the action an error entry (or the view's notice) offers. */
export async function runErrorAction(action: ErrorAction, handlers: ErrorActionHandlers): Promise<void> {
  switch (action) {
    case "setApiKey":
      await vscode.commands.executeCommand("geminiChat.setApiKey");
      break;
    case "selectModel":
      await handlers.selectModel();
      break;
    case "retry":
      await handlers.retry();
      break;
    case "showLog":
      handlers.showLog();
      break;
    case "openSettings":
      await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.serverPath");
      break;
    case "openSafetySettings":
      await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.safetySettings");
      break;
    case "none":
      break;
  }
}

/** If the daemon failed to start, say why in a notification that opens the settings or the log. */
export async function reportStartFailure(client: DaemonClient): Promise<void> {
  if (client.state !== "failed" || client.error === undefined) return;
  const choice = await vscode.window.showErrorMessage(client.error, "Open Settings", "Show Log");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.serverPath");
  } else if (choice === "Show Log") client.output.show(true);
}
