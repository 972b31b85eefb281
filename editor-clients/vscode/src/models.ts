/** Model picking: the daemon's model list, the picker, and the model that sticks to the shown folder. */

import * as vscode from "vscode";
import { describeError, type GeminiApi } from "./api";
import type { DaemonClient } from "./client";
import type { FolderInfo } from "./folderInfo";
import type { FolderFollower } from "./folders";
import type { ModelChoice } from "./messages";
import type { ModelInfo } from "./protocol";
import { pickOne } from "./quickPick";
import { configuredModel } from "./settings";

type Item = vscode.QuickPickItem & { name: string | null; all?: boolean };

const ALL_MODELS = "$(list-unordered) All models…";

/** The models on offer and the shown folder's choice among them (gemini/setModel). */
export class ModelPicker {
  private list: ModelInfo[] = [];

  /** `headerChanged()`: show the model in the header. */
  constructor(
    private readonly daemon: DaemonClient,
    private readonly folders: FolderFollower,
    private readonly info: FolderInfo,
    private readonly headerChanged: () => void,
  ) {}

  /** The daemon's chat models, as the header's picker lists them. */
  get choices(): ModelChoice[] {
    return this.list.filter(isChat).map(choice);
  }

  /** Whether models other than chat ones exist (offered behind "All models…"). */
  get more(): boolean {
    return this.list.some((m) => m.kind === "special");
  }

  /** The model the next turn uses: the folder's choice, else the setting. */
  current(): string {
    return this.info.model ?? configuredModel();
  }

  /** The model the next turn uses, with what the daemon's list says of it (only its name when unlisted). */
  currentInfo(): ModelInfo {
    const model = this.current();
    return this.list.find((m) => m.name === model) ?? { name: model };
  }

  /** The input token limit of the current model, when the daemon listed it. */
  limit(): number | undefined {
    const model = this.current();
    return this.list.find((m) => m.name === model)?.inputTokenLimit;
  }

  /** Ask the daemon for its models. */
  async load(api: GeminiApi): Promise<void> {
    try {
      // Image models (Imagen) cannot chat: never offered here.
      this.list = (await api.models()).models.filter((m) => m.kind !== "image");
    } catch {
      // Without a key the list is unavailable; the picker then shows the configured model only.
      this.list = [];
    }
  }

  /** Offer the chat models, "All models…" and "Use the default"; a typed name is offered too. */
  async pick(): Promise<void> {
    const picked = await this.show(this.list.filter(isChat), true);
    if (picked?.all === true) await this.pickAll();
    else if (picked !== undefined) await this.choose(picked.name);
  }

  /** Offer every model: chat models first, then the others (TTS, robotics, …), marked. */
  async pickAll(): Promise<void> {
    const picked = await this.show(this.list, false);
    if (picked !== undefined && picked.all !== true) await this.choose(picked.name);
    else this.headerChanged();
  }

  /** Make `model` the folder's model in the daemon's store (null: back to the setting). */
  async choose(model: string | null): Promise<void> {
    try {
      const api = await this.daemon.require();
      const result = await api.setModel(this.folders.uri(), model);
      this.info.setModel(result.model);
    } catch (err) {
      // A name the API does not list: the daemon's message names the closest ones.
      void vscode.window.showErrorMessage(`Could not select the model: ${describeError(err).message}`);
    }
    // Also after a failure: puts the webview's picker back on the model in use.
    this.headerChanged();
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
    this.headerChanged();
  }

  private async show(models: ModelInfo[], short: boolean): Promise<Item | undefined> {
    const api = await this.daemon.ready();
    if (api !== undefined && this.list.length === 0) await this.load(api);
    const current = this.current();
    const items = modelItems(short ? this.list.filter(isChat) : models, current, short && this.more);
    const quick = vscode.window.createQuickPick<Item>();
    const folder = this.folders.folder?.name;
    quick.placeholder = `Gemini model for ${folder === undefined ? "chat" : `the folder ${folder}`} (or type a model name)`;
    quick.items = items;
    // A model id typed that no item matches: offered as is; the daemon says whether the API knows it.
    quick.onDidChangeValue((value) => {
      const name = value.trim();
      const typed = name.toLowerCase();
      const matches = items.some((i) => `${i.label} ${i.description ?? ""}`.toLowerCase().includes(typed));
      const offer = /^[\w.\-/]+$/.test(name) && !matches;
      quick.items = offer ? [{ label: name, description: "use this model name", name }, ...items] : items;
    });
    return pickOne(quick);
  }
}

function isChat(m: ModelInfo): boolean {
  return m.kind === undefined || m.kind === "chat";
}

function choice(m: ModelInfo): ModelChoice {
  return { name: m.name, label: m.displayName ?? m.name };
}

function modelItem(m: ModelInfo, current: string): Item {
  return {
    label: m.displayName ?? m.name,
    description: m.name === current ? `${m.name} (current)` : m.name,
    name: m.name,
  };
}

/** Chat models; then (all) the special ones under their own separator; the extra entries last. */
function modelItems(models: ModelInfo[], current: string, offerAll: boolean): Item[] {
  const items: Item[] = models.filter(isChat).map((m) => modelItem(m, current));
  const special = models.filter((m) => m.kind === "special");
  if (special.length > 0) {
    items.push({
      label: "Not made for chat (speech, robotics, research…)",
      kind: vscode.QuickPickItemKind.Separator,
      name: null,
    });
    items.push(...special.map((m) => modelItem(m, current)));
  }
  items.push({ label: "", kind: vscode.QuickPickItemKind.Separator, name: null });
  if (offerAll)
    items.push({ label: ALL_MODELS, description: "every model the API lists", name: null, all: true });
  items.push({
    label: "$(discard) Use the default",
    description: `geminiChat.model: ${configuredModel()}`,
    name: null,
  });
  return items;
}
