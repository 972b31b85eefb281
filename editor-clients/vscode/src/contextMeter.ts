/**
 * How full the context window is. After each turn: that turn's own usage (its prompt plus its
 * reply, what the next request carries), so a message costs one upstream call. gemini/countTokens
 * only when the user asks (a click on the meter) or the draft or its attachments change, cached.
 * An Imagen exchange reports no tokens, yet its prompt and images stay in the history every later
 * turn sends: the meter keeps the last chat reply's context and counts the images drawn since.
 */

import type { GeminiApi } from "./api";
import type { ContextUse } from "./messages";
import type { Attachment, HistoryTurn, Usage } from "./protocol";

/** The draft the next turn would send. */
export interface Draft {
  message: string;
  attachments: Attachment[];
}

const CACHE_SIZE = 32;
/** A changed draft (its attachments) is counted once changes pause this long. */
const DRAFT_PAUSE_MS = 800;

/** The conversation's size as far as usage tells it: the last chat reply's, and images drawn since. */
export interface Measured {
  used: number;
  imagesSince: number;
}

/**
 * The conversation's size from its history: the last chat reply's usage (its prompt plus its
 * reply), and the images Imagen drew after it (their usage counts images, not tokens). A
 * conversation of image exchanges alone measures 0 plus its images; undefined when a model turn
 * without usage (a compaction's summary) comes after the last chat reply: nothing known.
 */
export function measureHistory(turns: readonly HistoryTurn[]): Measured | undefined {
  let imagesSince = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i];
    if (turn === undefined || turn.role !== "model") continue;
    const usage = turn.usage;
    if (usage === undefined) return undefined;
    if (usage.images !== undefined) imagesSince += usage.images;
    else return { used: usage.promptTokens + usage.replyTokens, imagesSince };
  }
  return { used: 0, imagesSince };
}

export class ContextMeter {
  private fromUsage: number | undefined;
  /** Images drawn since the reply `fromUsage` measures: in the context, not in the number. */
  private imagesSince = 0;
  private counted: { key: string; used: number } | undefined;
  private draftKey: string | undefined;
  /** The draft last told: what a click on the meter counts. */
  lastDraft: Draft = { message: "", attachments: [] };
  private readonly cache = new Map<string, Promise<number | undefined>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `limit()`: the model's input limit; `changed()`: show the new value. */
  constructor(
    private readonly limit: () => number | undefined,
    private readonly changed: () => void,
  ) {}

  /** What the header shows; undefined when the limit is unknown (no model list without a key). */
  get value(): ContextUse | undefined {
    const limit = this.limit();
    if (limit === undefined || limit <= 0) return undefined;
    if (this.counted !== undefined && this.counted.key === this.draftKey) {
      return { used: this.counted.used, limit, counted: true };
    }
    if (this.fromUsage === undefined) return undefined;
    const use: ContextUse = { used: this.fromUsage, limit };
    if (this.imagesSince > 0) use.imagesSince = this.imagesSince;
    return use;
  }

  /** The conversation's size as its history (or a new, empty conversation) says. */
  measured(size: Measured | undefined): void {
    this.fromUsage = size?.used;
    this.imagesSince = size?.imagesSince ?? 0;
    this.draftKey = undefined;
    this.changed();
  }

  /** A turn of this window finished: a chat reply measures the conversation, Imagen's adds images. */
  replied(usage: Usage): void {
    if (usage.images === undefined) {
      this.measured({ used: usage.promptTokens + usage.replyTokens, imagesSince: 0 });
      return;
    }
    if (this.fromUsage === undefined) return;
    this.imagesSince += usage.images;
    this.draftKey = undefined;
    this.changed();
  }

  /** Another conversation, model or folder: nothing known until its history is read. */
  clear(): void {
    this.fromUsage = undefined;
    this.imagesSince = 0;
    this.draftKey = undefined;
  }

  /**
   * Count the next request with `draft` (`key` names the conversation state and model it is
   * counted against). A changed draft is counted once changes pause, so composing a message costs
   * one count, not one per attachment; `undefined` (the user asked) counts the draft known now.
   * An empty draft goes back to the usage; a draft counted once is not counted again.
   */
  count(api: GeminiApi, workspace: string | undefined, draft: Draft | undefined, key: string): Promise<void> {
    clearTimeout(this.timer);
    const empty = draft !== undefined && draft.message.trim() === "" && draft.attachments.length === 0;
    if (draft === undefined || empty)
      return this.countNow(api, workspace, draft ?? this.lastDraft, key, !empty);
    this.lastDraft = draft;
    return new Promise((resolve) => {
      this.timer = setTimeout(
        () => resolve(this.countNow(api, workspace, draft, key, false)),
        DRAFT_PAUSE_MS,
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private async countNow(
    api: GeminiApi,
    workspace: string | undefined,
    draft: Draft,
    key: string,
    asked: boolean,
  ): Promise<void> {
    this.lastDraft = draft;
    if (!asked && draft.message.trim() === "" && draft.attachments.length === 0) {
      this.draftKey = undefined;
      this.changed();
      return;
    }
    const full = JSON.stringify([key, workspace, draft]);
    this.draftKey = full;
    let pending = this.cache.get(full);
    if (pending === undefined) {
      pending = api.countTokens(workspace, draft).then(
        (r) => r.totalTokens,
        () => undefined,
      );
      this.cache.set(full, pending);
      if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    }
    const used = await pending;
    // A draft typed on since: its own count decides.
    if (used === undefined || this.draftKey !== full) return;
    this.counted = { key: full, used };
    this.changed();
  }
}
