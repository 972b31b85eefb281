/** The status bar item: the model and the state (starting, idle, thinking, rate limited, failed). */

import * as vscode from "vscode";
import type { ChatController } from "./chat";
import type { DaemonClient } from "./client";

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
      chat.onDidChangeStatus(() => this.update()),
      chat.onDidChangeModel(() => this.update()),
    ];
    this.update();
    this.item.show();
  }

  /** Redraw from the current state. */
  update(): void {
    const model = this.chat.modelName();
    const [text, tooltip, command] = this.describe(model);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
    this.item.backgroundColor =
      this.daemon.state === "failed"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : this.chat.status === "rateLimited"
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
    switch (this.chat.status) {
      case "thinking":
        return [`$(loading~spin) ${model}`, `Gemini (${model}) is replying…`, "geminiChat.stop"];
      case "rateLimited":
        return [`$(watch) ${model}: rate limited`, "Gemini is rate limited; retrying", "geminiChat.stop"];
      default:
        return [`$(sparkle) ${model}`, `Gemini chat: ${model} (click to change)`, "geminiChat.selectModel"];
    }
  }
}
