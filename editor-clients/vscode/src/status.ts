/** The status bar item: the model and the state (starting, idle, thinking, rate limited, failed). */

import * as vscode from "vscode";
import type { WorkDoneValue } from "./api";
import type { ChatController } from "./chat";
import type { DaemonClient } from "./client";

export type ChatStatus = "idle" | "thinking" | "rateLimited";

/** Whether a reply is being written, and whether the daemon is waiting out a rate limit. */
export class ReplyStatus implements vscode.Disposable {
  private current: ChatStatus = "idle";
  private readonly emitter = new vscode.EventEmitter<ChatStatus>();
  /** Fires when a reply starts, ends or is rate limited. */
  readonly onDidChange = this.emitter.event;

  get value(): ChatStatus {
    return this.current;
  }

  set(status: ChatStatus): void {
    this.current = status;
    this.emitter.fire(status);
  }

  /** The daemon reports its retry waits ("retrying in 4 s") as work-done progress. */
  progress(value: WorkDoneValue): void {
    if (value.kind !== "report") return;
    if (/retr|rate/i.test(value.message ?? "")) this.set("rateLimited");
    else if (this.current === "rateLimited") this.set("thinking");
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
    this.item.backgroundColor =
      this.daemon.state === "failed"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : this.chat.status.value === "rateLimited"
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
        return [`$(watch) ${model}: rate limited`, "Gemini is rate limited; retrying", "geminiChat.stop"];
      default:
        return [`$(sparkle) ${model}`, `Gemini chat: ${model} (click to change)`, "geminiChat.selectModel"];
    }
  }
}
