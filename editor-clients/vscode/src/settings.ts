/** Typed reader for the `geminiChat.*` settings and their mapping to the daemon's `gemini` section. */

import * as vscode from "vscode";
import { editsImages } from "./imageAsk";
import type { DaemonSettings, ModelInfo } from "./protocol";

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
  "imageModel",
  "prices",
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
    imageModel: nonEmpty(c.get<string>("imageModel")),
    prices: c.get<Record<string, unknown>>("prices") ?? {},
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

/**
 * The per-turn `generationConfig` for `settings` and the turn's model: thought summaries on top of
 * the configured thinking (for a model the daemon lists as thinking, or does not list); with one
 * of Gemini's image models, replies with images too, so an attached picture comes back edited,
 * unless the setting chooses `responseModalities` itself.
 */
export function turnGenerationConfig(
  settings: ExtensionSettings,
  model: ModelInfo,
): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  const configured = settings.daemon.generationConfig ?? {};
  if (settings.showThoughts && model.thinking !== false) {
    // The daemon merges a per-turn generationConfig key by key: keep the configured budget or level.
    const thinking = configured.thinkingConfig;
    const base = typeof thinking === "object" && thinking !== null ? thinking : {};
    config.thinkingConfig = { ...base, includeThoughts: true };
  }
  if (editsImages(model.name) && configured.responseModalities === undefined) {
    config.responseModalities = [...IMAGE_MODALITIES];
  }
  return Object.keys(config).length === 0 ? undefined : config;
}

/** What an image model is asked to answer with. */
export const IMAGE_MODALITIES = ["TEXT", "IMAGE"] as const;
