/** Typed reader for the `geminiChat.*` settings and their mapping to the daemon's `gemini` section. */

import * as vscode from "vscode";
import type { DaemonSettings } from "./protocol";

export const SECTION = "geminiChat";

/** Settings that need the daemon restarted when they change. */
export const RESTART_KEYS = ["serverPath", "serverArgs"] as const;

/** Settings forwarded to the running daemon by `workspace/didChangeConfiguration`. */
export const DAEMON_KEYS = [
  "model",
  "baseUrl",
  "systemInstruction",
  "generationConfig",
  "safetySettings",
  "requestTimeout",
] as const;

export interface ExtensionSettings {
  serverPath: string;
  serverArgs: string[];
  /** Ask for thought summaries with every turn (per-turn `thinkingConfig.includeThoughts`). */
  showThoughts: boolean;
  daemon: DaemonSettings;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Read every `geminiChat.*` setting, with defaults. */
export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const daemon: DaemonSettings = {
    model: nonEmpty(c.get<string>("model")),
    baseUrl: nonEmpty(c.get<string>("baseUrl")),
    systemInstruction: nonEmpty(c.get<string>("systemInstruction")),
    generationConfig: c.get<Record<string, unknown>>("generationConfig") ?? {},
    safetySettings: c.get<{ category: string; threshold: string }[]>("safetySettings") ?? [],
    requestTimeout: c.get<number>("requestTimeout"),
  };
  // Unset keys are left out, so the daemon keeps its own default or environment value.
  for (const key of Object.keys(daemon) as (keyof DaemonSettings)[]) {
    if (daemon[key] === undefined) delete daemon[key];
  }
  return {
    serverPath: nonEmpty(c.get<string>("serverPath")) ?? "gemini-chat-server",
    serverArgs: c.get<string[]>("serverArgs") ?? [],
    showThoughts: c.get<boolean>("showThoughts") ?? false,
    daemon,
  };
}

/** The model a folder uses without a choice of its own: package.json's contributed default, the one place it is written. */
export function defaultModel(): string {
  return vscode.workspace.getConfiguration(SECTION).inspect<string>("model")?.defaultValue ?? "";
}

/** The model a folder without a choice of its own uses: the setting, else its default. */
export function configuredModel(): string {
  return readSettings().daemon.model ?? defaultModel();
}

/** Whether a configuration change touches any of `keys`. */
export function affects(event: vscode.ConfigurationChangeEvent, keys: readonly string[]): boolean {
  return keys.some((k) => event.affectsConfiguration(`${SECTION}.${k}`));
}

/** The per-turn `generationConfig` for `settings`: thought summaries on top of the configured thinking. */
export function turnGenerationConfig(settings: ExtensionSettings): Record<string, unknown> | undefined {
  if (!settings.showThoughts) return undefined;
  // The daemon merges a per-turn generationConfig key by key: keep the configured budget or level.
  const configured = settings.daemon.generationConfig?.thinkingConfig;
  const thinking = typeof configured === "object" && configured !== null ? configured : {};
  return { thinkingConfig: { ...thinking, includeThoughts: true } };
}
