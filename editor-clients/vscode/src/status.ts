/**
 * The status bar item: the model and the state (starting, idle, thinking, a retry counting down,
 * failed), and the rate limit last met while it holds (which quota, when it lifts).
 */

import * as vscode from "vscode";
import type { WorkDoneValue } from "./api";
import type { ChatController } from "./chat";
import type { DaemonClient } from "./client";
import { rateLimitShort, rateLimitText } from "./usageText";

export type ChatStatus = "idle" | "thinking" | "rateLimited" | "waiting";

/** Whether a reply is being written, or waits (a rate limit's countdown, another editor's turn). */
export class ReplyStatus implements vscode.Disposable {
  private current: ChatStatus = "idle";
  /** The daemon's words for the wait: "rate limited: retrying in 12 s". */
  message: string | undefined;
  private readonly emitter = new vscode.EventEmitter<ChatStatus>();
  /** Fires when a reply starts, ends or is rate limited. */
  readonly onDidChange = this.emitter.event;

  get value(): ChatStatus {
    return this.current;
  }

  set(status: ChatStatus, message?: string): void {
    this.current = status;
    this.message = message;
    this.emitter.fire(status);
  }

  /**
   * The daemon reports its waits as work-done progress: a retry counting down once a second
   * ("rate limited: retrying in 12 s", "11 s", …) or "waiting for another editor's turn".
   * Returns the words to show while the reply waits (undefined: it no longer waits).
   */
  progress(value: WorkDoneValue): string | undefined {
    const message = value.kind === "report" ? value.message : undefined;
    if (message !== undefined && /retrying in/i.test(message)) this.set("rateLimited", message);
    else if (message !== undefined && /another editor/i.test(message)) this.set("waiting", message);
    else if (this.current !== "thinking" && value.kind !== "end") this.set("thinking");
    return this.message;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** Keeps one status bar item in step with the daemon and the chat. */
export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    "geminiChat.status",
    vscode.StatusBarAlignment.Right,
    100,
  );
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly daemon: DaemonClient,
    private readonly chat: ChatController,
  ) {
    this.item.name = "Gemini Chat";
    this.subscriptions = [
      daemon.onDidChangeState(() => this.update()),
      chat.status.onDidChange(() => this.update()),
      chat.onDidChangeModel(() => this.update()),
      chat.rateLimit.onDidChange(() => this.update()),
    ];
    this.update();
    this.item.show();
  }

  /** Redraw from the current state. */
  update(): void {
    const model = this.chat.models.current();
    const [text, tooltip, command] = this.describe(model);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
    const limited = this.chat.status.value === "rateLimited" || this.chat.rateLimit.holds();
    this.item.backgroundColor =
      this.daemon.state === "failed"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : limited
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }

  private describe(model: string): [string, string, string] {
    if (this.daemon.state === "failed") {
      return ["$(error) Gemini", this.daemon.error ?? "The server failed", "geminiChat.showLog"];
    }
    if (this.daemon.state === "starting") {
      return ["$(sync~spin) Gemini", "Starting the Gemini chat server…", "geminiChat.showLog"];
    }
    switch (this.chat.status.value) {
      case "thinking":
        return [`$(loading~spin) ${model}`, `Gemini (${model}) is replying…`, "geminiChat.stop"];
      case "rateLimited":
        // A retry counting down; else the turn failed on it: what the daemon knows of the limit.
        if (this.chat.status.message === undefined) return this.idle(model);
        return [
          `$(watch) ${model}: ${this.chat.status.message}`,
          "Gemini is rate limited; click to stop",
          "geminiChat.stop",
        ];
      case "waiting":
        return [
          `$(watch) ${model}: waiting`,
          "Waiting for another editor's turn on this folder; click to stop",
          "geminiChat.stop",
        ];
      default:
        return this.idle(model);
    }
  }

  /** Between replies: the model, or the rate limit while it holds; the last one met in the tooltip. */
  private idle(model: string): [string, string, string] {
    const now = new Date();
    const limit = this.chat.rateLimit.limit;
    const met = limit === undefined ? "" : `\n\nRate limit: ${rateLimitText(limit, now)}`;
    if (limit !== undefined && this.chat.rateLimit.holds(now)) {
      const text = `$(watch) ${limit.model}: ${rateLimitShort(limit, now)}`;
      return [text, `${rateLimitText(limit, now)}\nClick to pick another model.`, "geminiChat.selectModel"];
    }
    if (this.chat.status.value === "rateLimited") {
      return [
        `$(watch) ${model}: rate limited`,
        `The last turn was rate limited.${met}`,
        "geminiChat.selectModel",
      ];
    }
    return [`$(sparkle) ${model}`, `Gemini chat: ${model} (click to change)${met}`, "geminiChat.selectModel"];
  }
}
