/** The folder's conversations: a QuickPick to open, rename, delete and export them; Export Chat…. */

import * as path from "node:path";
import * as vscode from "vscode";
import { describeError, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import type { FolderFollower } from "./folders";
import type { ConversationInfo } from "./protocol";

type Item = vscode.QuickPickItem & { conversation?: ConversationInfo; more?: boolean };

const PAGE = 200;
const RENAME: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon("edit"), tooltip: "Rename" };
const EXPORT: vscode.QuickInputButton = {
  iconPath: new vscode.ThemeIcon("export"),
  tooltip: "Export as Markdown…",
};
const DELETE: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon("trash"), tooltip: "Delete" };

/** "just now", "5 min ago", "3 h ago", "yesterday", else the date. */
export function when(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const minutes = Math.round((now - t) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  if (minutes < 48 * 60) return "yesterday";
  return new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

function item(c: ConversationInfo): Item {
  const turns = `${c.turns} ${c.turns === 1 ? "turn" : "turns"}`;
  return {
    label: c.active ? `$(comment-discussion) ${c.title}` : c.title,
    description: when(c.updated),
    detail: c.active ? `${turns} · open now` : turns,
    buttons: [RENAME, EXPORT, DELETE],
    conversation: c,
  };
}

/** The History picker and the export command, for the shown folder. */
export class ConversationHistory {
  constructor(
    private readonly daemon: DaemonClient,
    private readonly folders: FolderFollower,
    /** Another conversation is the folder's now: `id` opened, or (undefined) the open one deleted. Show it at once. */
    private readonly changed: (id: string | undefined) => Promise<void>,
  ) {}

  /** List the folder's conversations; pick one to open it; its buttons rename, export, delete. */
  async show(): Promise<void> {
    const api = await this.daemon.ready();
    if (api === undefined) return;
    const quick = vscode.window.createQuickPick<Item>();
    quick.title = `Gemini conversations of ${this.folders.displayName()}`;
    quick.placeholder = "Pick a conversation to open it";
    quick.matchOnDetail = true;
    const load = async (count: number): Promise<void> => {
      quick.busy = true;
      try {
        const result = await api.conversations(this.folders.uri(), count);
        const items = result.conversations.map(item);
        if (result.total > result.conversations.length) {
          items.push({
            label: `$(ellipsis) Show more (${result.total} in all)`,
            more: true,
            alwaysShow: true,
          });
        }
        quick.items = items;
      } catch (err) {
        quick.items = [];
        void vscode.window.showErrorMessage(
          `Could not list the conversations: ${describeError(err).message}`,
        );
      }
      quick.busy = false;
    };
    let shown = PAGE;
    quick.onDidTriggerItemButton(async ({ button, item: picked }) => {
      const c = picked.conversation;
      if (c === undefined) return;
      // The rename box, the confirmation and the save dialog take the picker's place; it comes back.
      quick.hide();
      if (button === EXPORT) await this.export(api, c.id, c.title);
      else if (button === RENAME) await this.rename(api, c);
      else await this.delete(api, c);
      await this.show();
    });
    quick.onDidAccept(async () => {
      const picked = quick.selectedItems[0];
      if (picked?.more === true) {
        shown += PAGE;
        await load(shown);
      } else if (picked?.conversation !== undefined) {
        quick.hide();
        await this.open(api, picked.conversation);
      }
    });
    quick.onDidHide(() => quick.dispose());
    quick.show();
    await load(shown);
  }

  /** Export the active conversation (Export Chat…). */
  async exportActive(): Promise<void> {
    const api = await this.daemon.ready();
    if (api !== undefined) await this.export(api, undefined, undefined);
  }

  private async open(api: GeminiApi, c: ConversationInfo): Promise<void> {
    if (c.active) return;
    if (await this.attempt("open the conversation", () => api.openConversation(this.folders.uri(), c.id))) {
      await this.changed(c.id);
    }
  }

  private async rename(api: GeminiApi, c: ConversationInfo): Promise<boolean> {
    const title = await vscode.window.showInputBox({
      title: "Rename the conversation",
      value: c.title,
      prompt: "Empty: back to its first question",
      ignoreFocusOut: true,
    });
    if (title === undefined) return false;
    return this.attempt("rename the conversation", () =>
      api.renameConversation(this.folders.uri(), c.id, title),
    );
  }

  private async delete(api: GeminiApi, c: ConversationInfo): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(
      `Delete the conversation “${c.title}”?`,
      { modal: true, detail: `${c.turns} turns, gone for good, with its images.` },
      "Delete",
    );
    if (choice !== "Delete") return false;
    const done = await this.attempt("delete the conversation", () =>
      api.deleteConversation(this.folders.uri(), c.id),
    );
    if (done && c.active) await this.changed(undefined);
    return done;
  }

  /** Ask where, write the Markdown there, open it. */
  private async export(api: GeminiApi, id: string | undefined, title: string | undefined): Promise<void> {
    let markdown: string;
    try {
      const result = await api.export(this.folders.uri(), id);
      markdown = result.markdown;
      title = result.title;
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not export the conversation: ${describeError(err).message}`);
      return;
    }
    const folder = this.folders.folder?.uri;
    const name = `${slug(title ?? "conversation")}.md`;
    const target = await vscode.window.showSaveDialog({
      title: "Export the conversation as Markdown",
      defaultUri: folder === undefined ? undefined : vscode.Uri.joinPath(folder, name),
      filters: { Markdown: ["md"] },
      saveLabel: "Export",
    });
    if (target === undefined) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(markdown, "utf8"));
    await vscode.window.showTextDocument(target, { preview: false });
    void vscode.window.setStatusBarMessage(`Exported to ${path.basename(target.fsPath)}`, 3000);
  }

  private async attempt(what: string, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not ${what}: ${describeError(err).message}`);
      return false;
    }
  }
}

/** A file name from a title: "Why does add() fail?" -> "why-does-add-fail". */
export function slug(title: string): string {
  const s = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return s === "" ? "conversation" : s;
}
