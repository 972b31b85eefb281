/** JSON mode: a toggle in the input area and a schema picked from the folder's `*.schema.json` files. */

import * as vscode from "vscode";
import type { JsonMode } from "./messages";
import type { JsonRequest } from "./protocol";
import { pickOne } from "./quickPick";

type Item = vscode.QuickPickItem & { schema?: vscode.Uri; any?: boolean; off?: boolean };

/** Schema files offered: the folder's, not its dependencies'. */
const SCHEMA_GLOB = "**/*.schema.json";
const SCHEMA_EXCLUDE = "**/{node_modules,.git,.venv,venv}/**";
const MAX_SCHEMAS = 200;

/** Whether the next turns ask for JSON, and against which schema file. */
export class JsonModeChoice {
  private on = false;
  private schema: vscode.Uri | undefined;

  /** `changed` fires when the mode or its schema changes (the composer redraws). */
  constructor(
    private readonly folder: () => vscode.WorkspaceFolder | undefined,
    private readonly changed: () => void,
  ) {}

  /** The mode as the view shows it; undefined when off. */
  get view(): JsonMode | undefined {
    if (!this.on) return undefined;
    return this.schema === undefined ? {} : { schema: vscode.workspace.asRelativePath(this.schema, false) };
  }

  /** The toggle: on (with the schema picked last, else any JSON) or off. */
  set(on: boolean): void {
    this.on = on;
    this.changed();
  }

  /** Another folder is shown: a schema of the old one is not offered for it. */
  folderChanged(): void {
    if (this.schema === undefined) return;
    this.schema = undefined;
    this.changed();
  }

  /** Offer "any JSON", the folder's schema files and "off"; the choice turns the mode on or off. */
  async pick(): Promise<void> {
    const quick = vscode.window.createQuickPick<Item>();
    quick.title = "Reply as JSON";
    quick.placeholder = "Pick the schema replies must match (the folder's *.schema.json files)";
    quick.busy = true;
    const choice = pickOne(quick);
    const items = await this.items();
    quick.items = items;
    // Focus the schema in use, if any. Never set no item active: a filter typed while the
    // folder was being searched would then focus nothing, and Enter would pick nothing.
    const current = items.filter((i) => (i.schema?.toString() ?? "") === (this.schema?.toString() ?? "x"));
    if (current.length > 0) quick.activeItems = current;
    quick.busy = false;
    const picked = await choice;
    if (picked === undefined) return;
    this.on = picked.off !== true;
    if (picked.off !== true) this.schema = picked.schema;
    this.changed();
  }

  /**
   * What the next turn sends (`json`) and shows, undefined when the mode is off; throws with
   * the reason when the schema file cannot be read as JSON.
   */
  async request(): Promise<{ request: JsonRequest; shown: JsonMode } | undefined> {
    const shown = this.view;
    if (shown === undefined) return undefined;
    if (this.schema === undefined) return { request: {}, shown };
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(this.schema)).toString("utf8");
    } catch (err) {
      throw new Error(`the schema ${shown.schema} could not be read (${describe(err)})`);
    }
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (err) {
      throw new Error(`the schema ${shown.schema} is not JSON (${describe(err)})`);
    }
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      throw new Error(`the schema ${shown.schema} is not a JSON object`);
    }
    return { request: { schema: schema as Record<string, unknown> }, shown };
  }

  private async items(): Promise<Item[]> {
    const folder = this.folder();
    const files =
      folder === undefined
        ? []
        : await vscode.workspace.findFiles(
            new vscode.RelativePattern(folder, SCHEMA_GLOB),
            new vscode.RelativePattern(folder, SCHEMA_EXCLUDE),
            MAX_SCHEMAS,
          );
    const schemas = files
      .map((uri) => ({ uri, label: vscode.workspace.asRelativePath(uri, false) }))
      .sort((a, b) => a.label.localeCompare(b.label))
      .map(({ uri, label }) => ({ label: `$(file-code) ${label}`, description: "schema", schema: uri }));
    return [
      { label: "$(json) Any JSON", description: "no schema: any JSON is valid", any: true },
      ...schemas,
      { label: "", kind: vscode.QuickPickItemKind.Separator },
      { label: "$(close) Off", description: "replies as text again", off: true },
    ];
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
