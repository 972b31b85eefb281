/** The commands the extension contributes, and the setting and key changes that act on the daemon. */

import * as vscode from "vscode";
import type { ChatController } from "./chat";
import { type DaemonClient, SECRET_KEY } from "./client";
import { reportStartFailure } from "./errors";
import { installServer } from "./installOffer";
import { affects, DAEMON_KEYS, RESTART_KEYS, readSettings } from "./settings";

/** Register every `geminiChat.*` command. */
export function registerCommands(
  client: DaemonClient,
  chat: ChatController,
  secrets: vscode.SecretStorage,
): vscode.Disposable[] {
  const command = (id: string, run: () => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, run);
  return [
    command("geminiChat.askAboutSelection", () => chat.askAboutSelection(vscode.window.activeTextEditor)),
    command("geminiChat.newChat", () => chat.newChat()),
    command("geminiChat.stop", () => chat.stop()),
    command("geminiChat.selectModel", () => chat.models.pick()),
    command("geminiChat.selectWorkspace", () => chat.folders.pick()),
    command("geminiChat.setApiKey", () => setApiKey(secrets, client)),
    command("geminiChat.openChat", () => chat.focus()),
    command("geminiChat.history", () => chat.history.show()),
    command("geminiChat.exportChat", () => chat.history.exportActive()),
    command("geminiChat.attachFile", () => chat.handle({ type: "attachFiles" })),
    command("geminiChat.generateImage", () => chat.generateImage()),
    command("geminiChat.replyAsJson", () => chat.handle({ type: "pickSchema" })),
    command("geminiChat.acceptChange", () => chat.code.accept()),
    command("geminiChat.discardChange", () => chat.code.discard()),
    command("geminiChat.installServer", () => installServer(client)),
    command("geminiChat.restartServer", () => client.restart().then(() => reportStartFailure(client))),
    command("geminiChat.showLog", () => client.output.show(true)),
  ];
}

/** Restart the daemon for a new key, path or arguments; forward the other settings it reads. */
export function watchChanges(
  client: DaemonClient,
  chat: ChatController,
  secrets: vscode.SecretStorage,
): vscode.Disposable[] {
  return [
    secrets.onDidChange((e) => {
      // Also a change made in another window: restart only if the daemon has another key.
      if (e.key === SECRET_KEY) void client.applyKeyChange();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, RESTART_KEYS)) void client.restart().then(() => reportStartFailure(client));
      else if (affects(e, DAEMON_KEYS)) {
        // After the daemon has the new settings: a folder without its own model follows the setting.
        void client.sendSettings(readSettings().daemon).then(() => {
          if (affects(e, ["model"])) void chat.models.settingChanged();
        });
      }
    }),
  ];
}

/**
 * Ask for the key, keep it in the secret storage (empty: remove it), restart the daemon with it.
 * True when a key was stored and the daemon runs with it.
 */
async function setApiKey(secrets: vscode.SecretStorage, client: DaemonClient): Promise<boolean> {
  const key = await vscode.window.showInputBox({
    title: "Gemini API key",
    prompt:
      "Stored in VS Code's secret storage and given to the server only in its environment. Leave empty to remove it.",
    password: true,
    ignoreFocusOut: true,
    placeHolder: "AIza…",
  });
  if (key === undefined) return false;
  if (key.trim() === "") await secrets.delete(SECRET_KEY);
  else await secrets.store(SECRET_KEY, key.trim());
  await client.applyKeyChange();
  await reportStartFailure(client);
  return key.trim() !== "" && client.state === "running";
}
