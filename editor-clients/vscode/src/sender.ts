/** This window's turns: one at a time (questions asked meanwhile are queued), each streamed into the transcript. */

import * as vscode from "vscode";
import type { GeminiApi } from "./api";
import type { PendingAttachment } from "./attachments";
import type { ApplyTarget } from "./codeOut";
import { shownError } from "./errors";
import type { Entry } from "./messages";
import type { ChatParams, ChatResult } from "./protocol";
import { readSettings, turnGenerationConfig } from "./settings";
import type { ReplyStatus } from "./status";
import { newId, type Transcript, type Turn } from "./transcript";

/** What the sender needs from the chat. */
export interface SenderHost {
  readonly transcript: Transcript;
  readonly status: ReplyStatus;
  /** The running daemon's API, or an error saying why there is none. */
  api(): Promise<GeminiApi>;
  /** The shown folder's URI. */
  workspace(): string | undefined;
  /** A turn ended (result undefined: it failed; null: stopped). */
  turnEnded(result: ChatResult | null | undefined, api: GeminiApi | undefined): Promise<void>;
  postBusy(busy: boolean): void;
}

/** A question with what goes with it. */
export interface Question {
  text: string;
  attachments: PendingAttachment[];
}

interface Pending extends Question {
  user: Entry;
}

export class Sender {
  private cancel: vscode.CancellationTokenSource | undefined;
  private queue: Pending[] = [];
  /** Failed turns by their error entry: what Retry or Set API Key sends again. */
  private readonly failed = new Map<string, Question>();
  /** The files and lines each question (by its user entry) was about: where Apply puts code. */
  private readonly targets = new Map<string, ApplyTarget>();

  constructor(private readonly host: SenderHost) {}

  /** Whether a reply of this window is being written. */
  get busy(): boolean {
    return this.cancel !== undefined;
  }

  /** Send now, or after the reply in progress (queued: never refused, never dropped). */
  async send(question: Question): Promise<void> {
    const views = question.attachments.map((a) => a.view);
    if (this.busy) {
      this.queue.push({ ...question, user: this.host.transcript.queue(question.text, views) });
      return;
    }
    const user: Entry = { id: newId("u"), role: "user", text: question.text };
    if (views.length > 0) user.attachments = views;
    await this.run({ ...question, user });
  }

  /** Stop the reply being streamed (queued questions follow). */
  stop(): void {
    this.cancel?.cancel();
  }

  /** Take a queued question back. */
  unqueue(id: string): void {
    const item = this.queue.find((q) => q.user.id === id);
    if (item === undefined) return;
    this.queue = this.queue.filter((q) => q !== item);
    this.host.transcript.unqueue(item.user);
  }

  /** The question of a failed turn (by its error entry), removed from the view to be sent again. */
  takeFailed(errorId: string): Question | undefined {
    const question = this.failed.get(errorId);
    const entry = this.host.transcript.find(errorId);
    if (question === undefined || entry === undefined) return undefined;
    this.failed.delete(errorId);
    this.host.transcript.dropLocal(entry);
    return question;
  }

  /** Where a reply's code applies: the lines its question attached (this window's turns). */
  targetOf(userId: string): ApplyTarget | undefined {
    return this.targets.get(userId);
  }

  private async run(item: Pending): Promise<void> {
    const target =
      item.attachments.find((a) => a.target?.lines !== undefined) ?? item.attachments.find((a) => a.target);
    if (target?.target !== undefined) this.targets.set(item.user.id, target.target);
    const turn = this.host.transcript.begin(item.user);
    this.cancel = new vscode.CancellationTokenSource();
    this.host.status.set("thinking");
    this.host.postBusy(true);
    let api: GeminiApi | undefined;
    let result: ChatResult | null | undefined;
    try {
      api = await this.host.api();
      result = await this.chat(api, turn, item, this.cancel.token);
      await this.host.transcript.finish(turn, result);
      this.host.status.set("idle");
    } catch (err) {
      result = undefined;
      this.fail(turn, item, err);
    } finally {
      this.cancel?.dispose();
      this.cancel = undefined;
      this.host.postBusy(false);
    }
    await this.host.turnEnded(result, api);
    const next = this.queue.shift();
    if (next !== undefined) await this.run(next);
  }

  private chat(
    api: GeminiApi,
    turn: Turn,
    q: Question,
    token: vscode.CancellationToken,
  ): Promise<ChatResult | null> {
    const params: Omit<ChatParams, "partialResultToken" | "workDoneToken"> = {
      message: q.text,
      attachments: q.attachments.map((a) => a.attachment),
    };
    const workspace = this.host.workspace();
    if (workspace !== undefined) params.workspace = workspace;
    const generationConfig = turnGenerationConfig(readSettings());
    if (generationConfig !== undefined) params.generationConfig = generationConfig;
    return api.chat(
      params,
      {
        onDelta: (delta) => {
          // The reply flows again after a wait (a retry, another editor's turn).
          if (this.host.status.value !== "thinking") this.host.status.set("thinking");
          this.host.transcript.delta(turn, delta);
        },
        onWorkDone: (value) => this.host.transcript.status(turn, this.host.status.progress(value)),
      },
      token,
    );
  }

  private fail(turn: Turn, question: Question, err: unknown): void {
    const error = shownError(err);
    const entry = this.host.transcript.fail(turn, error);
    if (entry !== undefined) this.failed.set(entry.id, question);
    this.host.status.set(error.reason === "rateLimited" ? "rateLimited" : "idle");
  }
}
