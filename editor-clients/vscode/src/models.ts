/** Model picking: the daemon's model list, the picker, and the model that sticks to the shown folder. */

import * as vscode from "vscode";
import { describeError, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import type { FolderInfo } from "./folderInfo";
import type { FolderFollower } from "./folders";
import type { ModelChoice } from "./messages";
import { configuredModel } from "./settings";

/** The models on offer and the shown folder's choice among them (gemini/setModel). */
export class ModelPicker {
  private list: ModelChoice[] = [];

  /** `headerChanged(api)`: show the model in the header, then (with an api) what depends on it. */
  constructor(
    private readonly daemon: DaemonClient,
    private readonly folders: FolderFollower,
    private readonly info: FolderInfo,
    private readonly headerChanged: (api: GeminiApi | undefined) => Promise<void>,
  ) {}

  /** The daemon's chat models, as the header's picker lists them. */
  get choices(): ModelChoice[] {
    return this.list;
  }

  /** The model the next turn uses: the folder's choice, else the setting. */
  current(): string {
    return this.info.model ?? configuredModel();
  }

  /** Ask the daemon for its models. */
  async load(api: GeminiApi): Promise<void> {
    try {
      const result = await api.models();
      this.list = result.models.map((m) => ({ name: m.name, label: m.displayName ?? m.name }));
    } catch {
      // Without a key the list is unavailable; the picker then shows the configured model only.
      this.list = [];
    }
  }

  /** Offer the daemon's models and "Use the default"; the choice sticks to the folder. */
  async pick(): Promise<void> {
    const api = await this.daemon.ready();
    if (api !== undefined && this.list.length === 0) await this.load(api);
    const current = this.current();
    const items: (vscode.QuickPickItem & { name: string | null })[] = this.list.map((m) => ({
      label: m.label,
      description: m.name === current ? `${m.name} (current)` : m.name,
      name: m.name,
    }));
    items.push(
      { label: "", kind: vscode.QuickPickItemKind.Separator, name: null },
      {
        label: "$(discard) Use the default",
        description: `geminiChat.model: ${configuredModel()}`,
        name: null,
      },
    );
    const folder = this.folders.folder?.name;
    const placeHolder = `Gemini model for ${folder === undefined ? "chat" : `the folder ${folder}`}`;
    const picked = await vscode.window.showQuickPick(items, { placeHolder });
    if (picked !== undefined) await this.choose(picked.name);
  }

  /** Make `model` the folder's model in the daemon's store (null: back to the setting). */
  async choose(model: string | null): Promise<void> {
    let api: GeminiApi | undefined;
    try {
      api = await this.daemon.require();
      const result = await api.setModel(this.folders.uri(), model);
      this.info.setModel(result.model);
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not select the model: ${describeError(err).message}`);
    }
    // Also after a failure: puts the webview's picker back on the model in use.
    await this.headerChanged(api);
  }

  /** The model setting changed: a folder without its own choice now uses another model. */
  async settingChanged(): Promise<void> {
    const api = this.daemon.api;
    if (api !== undefined) {
      try {
        const history = await api.history(this.folders.uri());
        if (history.model !== undefined) this.info.setModel(history.model);
      } catch {
        // The next refresh reports it; the header keeps what it had.
      }
    }
    await this.headerChanged(undefined);
  }
}
