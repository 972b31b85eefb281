/**
 * The conversation as the webview shows it, in three parts: what the store holds (reloaded when
 * the daemon says it changed), what it does not (a failed or stopped turn, an error: kept where
 * it happened), and the turns in flight (this window's, another editor's, queued questions).
 */

import type { ErrorView } from "./api";
import {
  finishEntry,
  historyEntries,
  interruptedEntries,
  sameEntry,
  type TurnResult,
} from "./historyEntries";
import { drawingLabel } from "./imageAsk";
import { ImageCache } from "./images";
import type { Entry, HostMessage } from "./messages";
import type { ChatDelta, HistoryResult, ImagenAsk, ImageRef } from "./protocol";

let entryCounter = 0;

export function newId(prefix: string): string {
  entryCounter += 1;
  return `${prefix}${entryCounter}`;
}

/** One exchange in flight: the user's message and the reply streaming into it. */
export interface Turn {
  user: Entry;
  reply: Entry;
}

/** How the transcript reaches the webview: one message, or the whole state drawn again. */
export interface TranscriptView {
  post(message: HostMessage): void;
  redraw(): void;
}

/** What a reloaded entry may know that the entry shown (streamed or mirrored) did not. */
const STORED_ONLY = ["usage", "model", "images", "json", "filtered", "imagen", "tools"] as const;

/** Entries the store does not hold, shown after the first `after` stored entries. */
interface LocalGroup {
  after: number;
  entries: Entry[];
}

/** The entries of the shown conversation, kept in step with the webview. */
export class Transcript {
  private stored: Entry[] = [];
  private local: LocalGroup[] = [];
  private interrupted: Entry[] = [];
  private live: Entry[] = [];
  /** Counts changes to the stored part made here: a history read before one of them is stale. */
  private changes = 0;
  /** The time of an interrupted turn the user sent again: not shown again. */
  private resent: string | undefined;
  private readonly images = new ImageCache();
  /**
   * The id of the conversation shown (as the last history read said, or as opened here);
   * undefined when not known: a new chat not yet stored, or nothing read yet.
   */
  conversation: string | null | undefined;

  constructor(private readonly view: TranscriptView) {}

  get entries(): Entry[] {
    const groups = [...this.local].sort((a, b) => a.after - b.after);
    const out: Entry[] = [];
    let g = 0;
    const flush = (upTo: number): void => {
      for (; g < groups.length && (groups[g] as LocalGroup).after <= upTo; g += 1) {
        out.push(...(groups[g] as LocalGroup).entries);
      }
    };
    this.stored.forEach((entry, i) => {
      flush(i);
      out.push(entry);
    });
    flush(Number.POSITIVE_INFINITY);
    return [...out, ...this.interrupted, ...this.live];
  }

  /** The entry with `id`, wherever it is. */
  find(id: string): Entry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** The user message a reply (by id) answered. */
  questionOf(replyId: string): Entry | undefined {
    const all = this.entries;
    const at = all.findIndex((e) => e.id === replyId);
    for (let i = at - 1; i >= 0; i -= 1) if (all[i]?.role === "user") return all[i];
    return undefined;
  }

  /** A question waiting for the reply in progress (shown dimmed, sent when that ends). */
  queue(user: Entry): Entry {
    this.live.push(user);
    this.view.redraw();
    return user;
  }

  /** Drop a queued question. */
  unqueue(user: Entry): void {
    this.live = this.live.filter((e) => e !== user);
    this.view.redraw();
  }

  /** The user's message (queued or new) goes out: an empty reply follows it for the deltas. */
  begin(user: Entry): Turn {
    delete user.queued;
    if (!this.live.includes(user)) this.live.push(user);
    const reply: Entry = { id: newId("m"), role: "model", text: "", streaming: true };
    this.live.splice(this.live.indexOf(user) + 1, 0, reply);
    this.view.redraw();
    return { user, reply };
  }

  /** One progress value of the reply: a piece of text or thought, a tool call, an image, compaction. */
  delta(turn: Turn, delta: ChatDelta): void {
    const { reply } = turn;
    if (reply.status !== undefined && (delta.text !== undefined || delta.thought !== undefined)) {
      delete reply.status;
      this.view.post({ type: "entry", entry: reply });
    }
    if (delta.text !== undefined && delta.text !== "") {
      reply.text += delta.text;
      this.view.post({ type: "delta", id: reply.id, text: delta.text });
    } else if (delta.thought !== undefined && delta.thought !== "") {
      reply.thoughts = (reply.thoughts ?? "") + delta.thought;
      this.view.post({ type: "thought", id: reply.id, text: delta.thought });
    } else if (delta.tool !== undefined) {
      reply.tools = [...(reply.tools ?? []), delta.tool];
      this.view.post({ type: "tool", id: reply.id, tool: delta.tool });
    } else if (delta.image !== undefined) {
      void this.addImage(reply, delta.image);
    } else if (delta.compacted !== undefined) {
      this.markCompacted(turn.user, delta.compacted.turns);
    } else if (delta.redacted !== undefined) {
      reply.redacted = delta.redacted;
      this.view.post({ type: "entry", entry: reply });
    }
  }

  /** What the reply is waiting for (a retry countdown, another editor's turn); undefined: nothing. */
  status(turn: Turn, message: string | undefined): void {
    if (turn.reply.status === message) return;
    if (message === undefined) delete turn.reply.status;
    else turn.reply.status = message;
    this.view.post({ type: "entry", entry: turn.reply });
  }

  /** The reply is complete (`null`: stopped, kept as it was but not stored). */
  async finish(turn: Turn, result: TurnResult | null): Promise<void> {
    const { reply } = turn;
    delete reply.status;
    reply.streaming = false;
    if (result === null) {
      reply.stopped = true;
      this.keepLocal(turn, []);
      return;
    }
    await finishEntry(reply, result, this.images);
    // The Imagen model the daemon chose, when the request named none.
    if (turn.user.imagen !== undefined) turn.user.imagen = { ...turn.user.imagen, model: result.model };
    if ("compacted" in result && result.compacted !== undefined)
      this.markCompacted(turn.user, result.compacted.turns);
    // Committed: the store holds it now (the history reload that follows finds it there).
    this.interrupted = [];
    this.moveToStored([`c${turn.user.id}`, turn.user.id, reply.id]);
    this.view.redraw();
  }

  /** The reply failed: it is kept with the error below it (a storage failure: with its text). */
  fail(turn: Turn, error: ErrorView): Entry | undefined {
    const { reply } = turn;
    delete reply.status;
    reply.streaming = false;
    if (error.kind === "cancelled") {
      reply.stopped = true;
      this.keepLocal(turn, []);
      return undefined;
    }
    if (error.text !== undefined) {
      reply.text = error.text;
      reply.notSaved = true;
    }
    const entry: Entry = { id: newId("e"), role: "error", text: error.message, action: error.action };
    this.keepLocal(turn, [entry]);
    return entry;
  }

  /** Forget a failed turn (its question is being sent again). */
  dropLocal(entry: Entry): Entry[] {
    const group = this.local.find((g) => g.entries.includes(entry));
    if (group === undefined) return [];
    this.local = this.local.filter((g) => g !== group);
    this.view.redraw();
    return group.entries;
  }

  /**
   * Another editor started a turn on this folder: its question, and its reply to come. An image
   * request (`image`) shows as this window's do: its Imagen line, and the reply drawing.
   */
  mirrorStart(message: string, image?: ImagenAsk): Turn {
    const user: Entry = { id: newId("o"), role: "user", text: message, fromOther: true };
    const reply: Entry = { id: newId("r"), role: "model", text: "", streaming: true, fromOther: true };
    if (image !== undefined) {
      user.imagen = image;
      reply.status = drawingLabel(image);
    }
    // Before this window's own turn, which waits for it.
    this.live.unshift(user, reply);
    this.view.redraw();
    return { user, reply };
  }

  /** The other editor's reply so far (the whole text, not a piece). */
  mirrorText(turn: Turn, text: string, thoughts: string): void {
    turn.reply.text = text;
    if (thoughts !== "") turn.reply.thoughts = thoughts;
    const message: HostMessage = { type: "text", id: turn.reply.id, text };
    if (thoughts !== "") message.thoughts = thoughts;
    this.view.post(message);
  }

  /** The other editor's turn is stored: it stays where it is, marked as theirs. */
  mirrorFinish(turn: Turn, text: string, thoughts: string, images: readonly ImageRef[] = []): void {
    turn.reply.streaming = false;
    // Drawn: the reload finds the stored entry the same, so nothing else would clear it.
    delete turn.reply.status;
    this.mirrorText(turn, text, thoughts);
    this.moveToStored([turn.user.id, turn.reply.id]);
    this.view.redraw();
    if (images.length > 0) void this.mirrorImages(turn.reply, images);
  }

  /** The other editor's reply images, shown once read (unless the reload filled them in first). */
  private async mirrorImages(reply: Entry, refs: readonly ImageRef[]): Promise<void> {
    const images = await this.images.views(refs);
    if (reply.images !== undefined) return;
    reply.images = images;
    this.view.post({ type: "entry", entry: reply });
  }

  /** The other editor's turn ended without being stored (failed, cancelled, interrupted). */
  mirrorDrop(turn: Turn): void {
    this.live = this.live.filter((e) => e !== turn.user && e !== turn.reply);
    this.view.redraw();
  }

  /** A mark to hand back to `load` with a history read from now on. */
  get version(): number {
    return this.changes;
  }

  /**
   * The stored conversation as the daemon had it when `version` was taken; true when what is
   * shown changed. A history read before a turn here was stored is older than what is shown:
   * it is dropped (undefined), and the caller reads again.
   */
  async load(history: HistoryResult, version: number): Promise<boolean | undefined> {
    const entries = await historyEntries(history.turns, this.images);
    if (version !== this.changes) return undefined;
    const interrupted =
      history.interrupted === undefined || history.interrupted.time === this.resent
        ? []
        : interruptedEntries(history.interrupted);
    const same =
      entries.length === this.stored.length &&
      entries.every((e, i) => sameEntry(e, this.stored[i] as Entry)) &&
      interrupted.map((e) => e.id).join() === this.interrupted.map((e) => e.id).join();
    this.conversation = history.conversation;
    if (same) {
      this.completeStored(entries);
      return false;
    }
    // What only the live turn knew survives the reload: who sent it, which secrets were masked.
    entries.forEach((e, i) => {
      const old = this.stored[i];
      if (old === undefined || !sameEntry(e, old)) return;
      if (old.fromOther === true) e.fromOther = true;
      if (old.redacted !== undefined) e.redacted = old.redacted;
      if (old.asJson !== undefined) e.asJson = old.asJson;
    });
    this.stored = entries;
    this.interrupted = interrupted;
    for (const g of this.local) g.after = Math.min(g.after, entries.length);
    return true;
  }

  /** The interrupted turn is being sent again: stop showing it. */
  resend(time: string | undefined): void {
    this.resent = time;
    this.interrupted = [];
    this.view.redraw();
  }

  /** Show only `error` (the conversation could not be read). */
  showError(error: ErrorView): void {
    this.stored = [];
    this.local = [
      { after: 0, entries: [{ id: newId("e"), role: "error", text: error.message, action: error.action }] },
    ];
  }

  /** Another conversation (a new chat, one opened, another folder): nothing of the old one stays. */
  clear(): void {
    this.changes += 1;
    this.conversation = undefined;
    this.stored = [];
    this.local = [];
    this.interrupted = [];
    this.images.clear();
  }

  /**
   * A reloaded history equal to what is shown: fill in what only the store knows (usage, model;
   * for another editor's turn, mirrored as text only: its images, JSON check, Imagen marker).
   */
  private completeStored(entries: Entry[]): void {
    entries.forEach((e, i) => {
      const old = this.stored[i] as Entry;
      const missing = STORED_ONLY.filter((key) => old[key] === undefined && e[key] !== undefined);
      if (missing.length === 0) return;
      for (const key of missing) Object.assign(old, { [key]: e[key] });
      this.view.post({ type: "entry", entry: old });
    });
  }

  private keepLocal(turn: Turn, extra: Entry[]): void {
    const entries = [
      turn.user,
      ...(turn.reply.text === "" && turn.reply.stopped !== true ? [] : [turn.reply]),
    ];
    this.live = this.live.filter((e) => e !== turn.user && e !== turn.reply);
    this.local.push({ after: this.stored.length, entries: [...entries, ...extra] });
    this.view.redraw();
  }

  private moveToStored(ids: string[]): void {
    this.changes += 1;
    const moving = this.live.filter((e) => ids.includes(e.id));
    this.live = this.live.filter((e) => !ids.includes(e.id));
    this.stored.push(...moving);
  }

  private async addImage(reply: Entry, ref: ImageRef): Promise<void> {
    const image = await this.images.view(ref);
    // The final result lists every image: once it is in, a late read adds nothing.
    if (reply.streaming !== true || reply.images?.some((i) => i.path === image.path) === true) return;
    reply.images = [...(reply.images ?? []), image];
    this.view.post({ type: "image", id: reply.id, image });
  }

  /** Put the compaction divider just above the message whose turn compacted the conversation. */
  private markCompacted(user: Entry, turns: number): void {
    const id = `c${user.id}`;
    if (this.entries.some((e) => e.id === id)) return;
    const at = this.live.indexOf(user);
    this.live.splice(at < 0 ? this.live.length : at, 0, { id, role: "compacted", text: "", turns });
    this.view.redraw();
  }
}
