/** Activation: wires the daemon client, the chat, the view, the commands and the status bar. */

import * as vscode from "vscode";
import { ChatController } from "./chat";
import { ChatViewProvider, VIEW_ID } from "./chatView";
import { DaemonClient, SECRET_KEY } from "./client";
import { affects, DAEMON_KEYS, RESTART_KEYS, readSettings } from "./settings";
import { StatusItem } from "./status";

let daemon: DaemonClient | undefined;

async function setApiKey(secrets: vscode.SecretStorage, client: DaemonClient): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: "Gemini API key",
    prompt:
      "Stored in VS Code's secret storage and given to the server only in its environment. Leave empty to remove it.",
    password: true,
    ignoreFocusOut: true,
    placeHolder: "AIza…",
  });
  if (key === undefined) return;
  if (key.trim() === "") await secrets.delete(SECRET_KEY);
  else await secrets.store(SECRET_KEY, key.trim());
  await client.applyKeyChange();
  await reportStartFailure(client);
}

async function reportStartFailure(client: DaemonClient): Promise<void> {
  if (client.state !== "failed" || client.error === undefined) return;
  const choice = await vscode.window.showErrorMessage(client.error, "Open Settings", "Show Log");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "geminiChat.serverPath");
  } else if (choice === "Show Log") client.output.show(true);
}

/** Start the daemon and register everything the extension contributes. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Gemini Chat");
  const client = new DaemonClient(context.secrets, output);
  daemon = client;
  const chat = new ChatController(client);
  const status = new StatusItem(client, chat);
  const provider = new ChatViewProvider(context.extensionUri, chat);
  const command = (id: string, run: () => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, run);
  context.subscriptions.push(
    output,
    client,
    chat,
    status,
    vscode.window.registerWebviewViewProvider(VIEW_ID, provider),
    command("geminiChat.askAboutSelection", () => chat.askAboutSelection(vscode.window.activeTextEditor)),
    command("geminiChat.newChat", () => chat.newChat()),
    command("geminiChat.stop", () => chat.stop()),
    command("geminiChat.selectModel", () => chat.pickModel()),
    command("geminiChat.selectWorkspace", () => chat.pickWorkspace()),
    command("geminiChat.setApiKey", () => setApiKey(context.secrets, client)),
    command("geminiChat.restartServer", () => client.restart().then(() => reportStartFailure(client))),
    command("geminiChat.showLog", () => output.show(true)),
    context.secrets.onDidChange((e) => {
      // Also a change made in another window: restart only if the daemon has another key.
      if (e.key === SECRET_KEY) void client.applyKeyChange();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, RESTART_KEYS)) void client.restart().then(() => reportStartFailure(client));
      else if (affects(e, DAEMON_KEYS)) {
        // After the daemon has the new settings: a folder without its own model follows the setting.
        void client.sendSettings(readSettings().daemon).then(() => {
          if (affects(e, ["model"])) void chat.onSettingsChanged();
        });
      }
    }),
  );
  void client.start().then(() => reportStartFailure(client));
}

/** Stop the daemon (shutdown, exit). */
export function deactivate(): Promise<void> | undefined {
  return daemon?.stop();
}
