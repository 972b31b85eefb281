/** Activation and deactivation: builds the daemon client, the chat, its view and status item. */

import * as vscode from "vscode";
import { ChatController } from "./chat";
import { ChatViewProvider, VIEW_ID } from "./chatView";
import { DaemonClient } from "./client";
import { registerCommands, watchChanges } from "./commands";
import { reportStartFailure } from "./errors";
import { StatusItem } from "./status";

let daemon: DaemonClient | undefined;

/** Start the daemon and register everything the extension contributes. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Gemini Chat");
  const venv = vscode.Uri.joinPath(context.globalStorageUri, "server-venv").fsPath;
  const client = new DaemonClient(context.secrets, output, context.extensionUri.fsPath, venv);
  daemon = client;
  const chat = new ChatController(client);
  context.subscriptions.push(
    output,
    client,
    chat,
    new StatusItem(client, chat),
    vscode.window.registerWebviewViewProvider(VIEW_ID, new ChatViewProvider(context.extensionUri, chat)),
    ...registerCommands(client, chat, context.secrets),
    ...watchChanges(client, chat, context.secrets),
  );
  void client.start().then(() => reportStartFailure(client));
}

/** Stop the daemon (shutdown, exit). */
export function deactivate(): Promise<void> | undefined {
  return daemon?.stop();
}
