/** This window's turns: one at a time (questions asked meanwhile are queued), each streamed into the transcript. */

import * as vscode from "vscode";
import type { GeminiApi, WorkDoneValue } from "./api";
import type { PendingAttachment } from "./attachments";
import type { ApplyTarget } from "./codeOut";
import { shownError } from "./errors";
import type { TurnResult } from "./historyEntries";
import { drawingLabel, type ImageAsk } from "./imageAsk";
import type { Entry, JsonMode } from "./messages";
import type { ChatDelta, ChatParams, JsonRequest, ModelInfo } from "./protocol";
import { readSettings, turnGenerationConfig } from "./settings";
import type { ReplyStatus } from "./status";
import { newId, type Transcript, type Turn } from "./transcript";

/** What the sender needs from the chat. */
export interface SenderHost {
  readonly transcript: Transcript;
  readonly status: ReplyStatus;
  /** The running daemon's API, or an error saying why there is none. */
  api(): Promise<GeminiApi>;
  /** The shown folder's URI (read when a question is sent: a queued one keeps it). */
  workspace(): string | undefined;
  /** The model the next turn uses, with what the daemon's list says of it. */
  model(): ModelInfo;
  /** A turn ended (result undefined: it failed; null: stopped). */
  turnEnded(result: TurnResult | null | undefined, api: GeminiApi | undefined): Promise<void>;
  postBusy(busy: boolean): void;
  /** The last turn ended with nothing queued: the conversation shown may change again. */
  settled(): void;
}

/** A question with what goes with it. */
export interface Question {
  text: string;
  attachments: PendingAttachment[];
  /** `/image`: Imagen draws instead (text: the prompt as typed; no attachments). */
  image?: ImageAsk;
  /** JSON mode: what the daemon gets, and what the view says (the schema's name). */
  json?: { request: JsonRequest; shown: JsonMode };
}

/** A question sent (or queued) and the folder shown when it was: the folder it goes to, whatever is shown later. */
interface Pending extends Question {
  user: Entry;
  workspace: string | undefined;
}

export class Sender {
  private cancel: vscode.CancellationTokenSource | undefined;
  /** The turn in flight, if any. */
  private running: Pending | undefined;
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
    const user = userEntry(question);
    const workspace = this.host.workspace();
    if (this.busy) {
      user.queued = true;
      this.queue.push({ ...question, user: this.host.transcript.queue(user), workspace });
      return;
    }
    await this.run({ ...question, user, workspace });
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

  /** Send a failed turn's question (by its error entry) again; the failed turn leaves the view. */
  async retry(errorId: string | undefined): Promise<void> {
    const question = errorId === undefined ? undefined : this.failed.get(errorId);
    const entry = errorId === undefined ? undefined : this.host.transcript.find(errorId);
    if (errorId === undefined || question === undefined || entry === undefined) return;
    this.failed.delete(errorId);
    this.host.transcript.dropLocal(entry);
    await this.send(question);
  }

  /**
   * The transcript was replaced (New Chat, another conversation or folder): its failed turns and
   * its questions' targets go with it; the turn in flight keeps its target (it is still shown).
   */
  forget(): void {
    this.failed.clear();
    const target = this.running === undefined ? undefined : this.targets.get(this.running.user.id);
    this.targets.clear();
    if (target !== undefined && this.running !== undefined) this.targets.set(this.running.user.id, target);
  }

  /** Where a reply's code applies: the lines its question attached (this window's turns). */
  targetOf(userId: string): ApplyTarget | undefined {
    return this.targets.get(userId);
  }

  private async run(item: Pending): Promise<void> {
    const target =
      item.attachments.find((a) => a.target?.lines !== undefined) ?? item.attachments.find((a) => a.target);
    if (target?.target !== undefined) this.targets.set(item.user.id, target.target);
    this.running = item;
    const turn = this.host.transcript.begin(item.user);
    if (item.json !== undefined) turn.reply.asJson = item.json.shown;
    if (item.image !== undefined) this.host.transcript.status(turn, drawingLabel(item.image));
    this.cancel = new vscode.CancellationTokenSource();
    this.host.status.set("thinking");
    this.host.postBusy(true);
    let api: GeminiApi | undefined;
    let result: TurnResult | null | undefined;
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
      this.running = undefined;
      this.host.postBusy(false);
    }
    await this.host.turnEnded(result, api);
    const next = this.queue.shift();
    if (next !== undefined) await this.run(next);
    else if (!this.busy) this.host.settled();
  }

  private chat(api: GeminiApi, turn: Turn, q: Pending, token: vscode.CancellationToken): Promise<TurnResult> {
    const callbacks = {
      onDelta: (delta: ChatDelta) => {
        // The reply flows again after a wait (a retry, another editor's turn).
        if (this.host.status.value !== "thinking") this.host.status.set("thinking");
        this.host.transcript.delta(turn, delta);
      },
      onWorkDone: (value: WorkDoneValue) => {
        const drawing = q.image === undefined ? undefined : drawingLabel(q.image);
        this.host.transcript.status(turn, this.host.status.progress(value) ?? drawing);
      },
    };
    const where = q.workspace === undefined ? {} : { workspace: q.workspace };
    if (q.image !== undefined) return api.generateImage({ ...where, ...q.image }, callbacks, token);
    const params: Omit<ChatParams, "partialResultToken" | "workDoneToken"> = {
      ...where,
      message: q.text,
      attachments: q.attachments.map((a) => a.attachment),
    };
    const generationConfig = turnGenerationConfig(readSettings(), this.host.model());
    if (generationConfig !== undefined) params.generationConfig = generationConfig;
    if (q.json !== undefined) params.json = q.json.request;
    return api.chat(params, callbacks, token);
  }

  private fail(turn: Turn, question: Question, err: unknown): void {
    const error = shownError(err);
    const entry = this.host.transcript.fail(turn, error);
    if (entry !== undefined) this.failed.set(entry.id, question);
    this.host.status.set(error.reason === "rateLimited" ? "rateLimited" : "idle");
  }
}

/** The question as the transcript shows it: its chips, an Imagen request's marker, JSON mode's badge. */
function userEntry(question: Question): Entry {
  const user: Entry = { id: newId("u"), role: "user", text: question.image?.prompt ?? question.text };
  const views = question.attachments.map((a) => a.view);
  if (views.length > 0) user.attachments = views;
  if (question.image !== undefined) {
    const { model = "", numberOfImages = 1, aspectRatio } = question.image;
    user.imagen =
      aspectRatio === undefined ? { model, numberOfImages } : { model, numberOfImages, aspectRatio };
  }
  if (question.json !== undefined) user.asJson = question.json.shown;
  return user;
}
