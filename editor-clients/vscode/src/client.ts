/** Starts, stops and restarts the daemon through vscode-languageclient over stdio. */

import { type ChildProcess, spawn } from "node:child_process";
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  State,
} from "vscode-languageclient/node";
import { GeminiApi } from "./api";
import type { ConversationChanged, DaemonSettings, TurnProgress } from "./protocol";
import { locateServer, SERVER } from "./serverLocation";
import { readSettings } from "./settings";

export const SECRET_KEY = "geminiChat.apiKey";

export type DaemonState = "starting" | "running" | "stopped" | "failed";

/** Why the daemon could not start, in words a user can act on. */
export class DaemonStartError extends Error {
  override name = "DaemonStartError";
}

/** Why the server was not found, and what to do: install it (the default), or fix the setting. */
function missingServerMessage(configured: string | undefined): string {
  if (configured !== undefined) {
    return (
      `The Gemini chat server "${configured}" (geminiChat.serverPath) was not found. Fix the setting, ` +
      "or clear it: the extension then finds gemini-chat-server, or installs it (uv tool install, " +
      "pipx install or a private venv)."
    );
  }
  return (
    `The Gemini chat server, ${SERVER}, was not found (on PATH, nor where the extension installs it). ` +
    "Install it: the extension carries it (uv tool install, else pipx, else a private venv)."
  );
}

/** Spawn the daemon; reject with an install hint when the executable is missing. */
function spawnDaemon(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: "pipe" });
    child.once("spawn", () => resolve(child));
    child.once("error", (err: NodeJS.ErrnoException) => {
      const message =
        err.code === "ENOENT"
          ? `The Gemini chat server "${command}" is gone.`
          : `The Gemini chat server "${command}" failed to start (${err.code ?? err.message}).`;
      reject(new DaemonStartError(message));
    });
  });
}

/** Owns the one LanguageClient of this window. */
export class DaemonClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private currentState: DaemonState = "stopped";
  private lastError: string | undefined;
  private missing = false;
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  /** Fires when the daemon starts, stops or fails. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly changedEmitter = new vscode.EventEmitter<ConversationChanged>();
  /** `gemini/conversationChanged`, from whichever daemon process runs now. */
  readonly onConversationChanged = this.changedEmitter.event;
  private readonly turnEmitter = new vscode.EventEmitter<TurnProgress>();
  /** `gemini/turnProgress`: another editor's turn. */
  readonly onTurnProgress = this.turnEmitter.event;
  private pending: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;
  // Only compared, never logged: tells whether a secret change needs a restart.
  private keyInUse: string | undefined;

  /** `extensionDir` carries the server's wheel; `venv`: the private venv an install may have put the server in. */
  constructor(
    private readonly secrets: vscode.SecretStorage,
    readonly output: vscode.OutputChannel,
    readonly extensionDir: string,
    readonly venv: string,
  ) {}

  get state(): DaemonState {
    return this.currentState;
  }

  /** The last start failed because the server is nowhere and the setting names none: it can be installed. */
  get canInstall(): boolean {
    return this.currentState === "failed" && this.missing;
  }

  /** Why the last start failed, if it did. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** The typed API, once running. */
  get api(): GeminiApi | undefined {
    return this.client !== undefined && this.currentState === "running"
      ? new GeminiApi(this.client)
      : undefined;
  }

  /** Start the daemon unless it runs; concurrent callers share one start. */
  start(): Promise<void> {
    if (this.currentState === "running") return Promise.resolve();
    this.pending ??= this.doStart().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Wait for a start in progress, or start; then return the API (undefined if it failed). */
  async ready(): Promise<GeminiApi | undefined> {
    await this.start();
    return this.api;
  }

  /** Like `ready`, but a daemon that is not running is an error saying why. */
  async require(): Promise<GeminiApi> {
    const api = await this.ready();
    if (api === undefined) throw new Error(this.lastError ?? "The Gemini chat server is not running.");
    return api;
  }

  /** Stop and start again, picking up a new key, path or arguments; concurrent calls share one. */
  restart(): Promise<void> {
    this.restarting ??= (async () => {
      await this.pending?.catch(() => undefined);
      await this.stop();
      await this.start();
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  /** Restart if the stored key is not the one the running daemon was given. */
  async applyKeyChange(): Promise<void> {
    const key = await this.secrets.get(SECRET_KEY);
    if (key !== this.keyInUse || this.currentState !== "running") await this.restart();
  }

  /** Stop the daemon (shutdown + exit). */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(2000);
      } catch (err) {
        this.output.appendLine(`[client] stop: ${String(err)}`);
      }
    }
    this.setState("stopped");
  }

  /** Send changed settings to the running daemon. */
  async sendSettings(settings: DaemonSettings): Promise<void> {
    if (this.client === undefined || this.currentState !== "running") return;
    await this.client.sendNotification("workspace/didChangeConfiguration", {
      settings: { gemini: settings },
    });
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.changedEmitter.dispose();
    this.turnEmitter.dispose();
  }

  private setState(state: DaemonState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  private async daemonEnv(): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The key reaches the daemon only through its environment: never settings or arguments.
    const key = await this.secrets.get(SECRET_KEY);
    this.keyInUse = key;
    if (key !== undefined && key !== "") env.GEMINI_API_KEY = key;
    return env;
  }

  private async doStart(): Promise<void> {
    this.lastError = undefined;
    this.missing = false;
    this.setState("starting");
    const settings = readSettings();
    const env = await this.daemonEnv();
    // A bare "gemini-chat-server" (the default) is looked for; anything else is used as is.
    const configured = settings.serverPath === SERVER ? undefined : settings.serverPath;
    // Found first so a missing server gives one clear error, not the client's generic one.
    const found = await locateServer(configured, env, this.venv);
    if (found === undefined) {
      this.lastError = missingServerMessage(configured);
      this.missing = configured === undefined;
      this.output.appendLine(`[client] ${this.lastError}`);
      this.setState("failed");
      return;
    }
    const command = found.path;
    this.output.appendLine(
      `[client] starting ${command}${found.how === "installed" ? " (installed by the extension)" : ""}`,
    );
    const options: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      initializationOptions: settings.daemon,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: () => false,
    };
    const client = new LanguageClient(
      "geminiChat",
      "Gemini Chat",
      () => spawnDaemon(command, settings.serverArgs, env),
      options,
    );
    // Registered before start, so nothing sent right after initialize is missed.
    const api = new GeminiApi(client);
    api.onConversationChanged((p) => this.changedEmitter.fire(p));
    api.onTurnProgress((p) => this.turnEmitter.fire(p));
    client.onDidChangeState((e) => {
      if (this.client === client && e.newState === State.Stopped) this.setState("stopped");
    });
    this.client = client;
    try {
      await client.start();
      this.setState("running");
    } catch (err) {
      this.client = undefined;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.output.appendLine(`[client] ${this.lastError}`);
      this.setState("failed");
    }
  }
}
