/** The conversation as the webview shows it: its entries, the reply being streamed, history turns. */

import type { ErrorView } from "./api";
import { ImageCache } from "./images";
import type { Entry, HostMessage } from "./messages";
import type { ChatDelta, ChatResult, HistoryTurn, ImageRef } from "./protocol";

let entryCounter = 0;

function newId(prefix: string): string {
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

/** The entries of the shown conversation, kept in step with the webview. */
export class Transcript {
  private list: Entry[] = [];
  private readonly images = new ImageCache();

  constructor(private readonly view: TranscriptView) {}

  get entries(): Entry[] {
    return this.list;
  }

  /** Add the user's message and an empty reply that the deltas fill. */
  begin(text: string, attachments: string[]): Turn {
    const user: Entry = { id: newId("u"), role: "user", text };
    if (attachments.length > 0) user.attachments = attachments;
    const reply: Entry = { id: newId("m"), role: "model", text: "", streaming: true };
    this.list.push(user, reply);
    return { user, reply };
  }

  /** One progress value of the reply: a piece of text or thought, a tool call, an image, compaction. */
  delta(turn: Turn, delta: ChatDelta): void {
    const { reply } = turn;
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
    }
  }

  /** The reply is complete (`null`: stopped); its final text, usage, thoughts, tools and images. */
  async finish(turn: Turn, result: ChatResult | null): Promise<void> {
    const { reply } = turn;
    // vscode-languageclient answers a cancelled request with null instead of an error.
    if (result === null) {
      reply.streaming = false;
      reply.stopped = true;
    } else {
      reply.text = result.text;
      reply.model = result.model;
      if (result.usage !== undefined) reply.usage = result.usage;
      if (result.thoughts !== "") reply.thoughts = result.thoughts;
      if (result.toolCalls !== undefined && result.toolCalls.length > 0) reply.tools = result.toolCalls;
      if (result.images !== undefined && result.images.length > 0) {
        reply.images = await this.images.views(result.images);
      }
      reply.streaming = false;
      if (result.compacted !== undefined) this.markCompacted(turn.user, result.compacted.turns);
    }
    this.view.post({ type: "entry", entry: reply });
  }

  /** The reply failed: stopped, or an error entry in its place (kept when text had arrived). */
  fail(turn: Turn, error: ErrorView): void {
    const { reply } = turn;
    reply.streaming = false;
    if (error.kind === "cancelled") {
      reply.stopped = true;
      this.view.post({ type: "entry", entry: reply });
      return;
    }
    if (reply.text === "") this.list = this.list.filter((e) => e.id !== reply.id);
    this.list.push(errorEntry(error));
    this.view.redraw();
  }

  /** The stored conversation's turns as entries, images read (shown by `replace`). */
  fromHistory(turns: readonly HistoryTurn[]): Promise<Entry[]> {
    return historyEntries(turns, this.images);
  }

  /** Show `entries` instead of what was shown. */
  replace(entries: Entry[]): void {
    this.list = entries;
  }

  /** Show only `error` (the conversation could not be read). */
  showError(error: ErrorView): void {
    this.list = [errorEntry(error)];
  }

  /** Forget the conversation and its images (a new chat or another folder). */
  clear(): void {
    this.list = [];
    this.images.clear();
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
    if (this.list.some((e) => e.id === id)) return;
    const at = this.list.indexOf(user);
    const divider: Entry = { id, role: "compacted", text: "", turns };
    this.list.splice(at < 0 ? this.list.length : at, 0, divider);
    this.view.redraw();
  }
}

function errorEntry(error: ErrorView): Entry {
  return { id: newId("e"), role: "error", text: error.message, action: error.action };
}

/** One history turn as an entry (without images; they are read separately). */
function turnEntry(turn: HistoryTurn, id: string): Entry {
  const entry: Entry = { id, role: turn.role, text: turn.text };
  const names = (turn.attachments ?? []).map((a) => a.name);
  if (names.length > 0) entry.attachments = names;
  if (turn.usage !== undefined) entry.usage = turn.usage;
  if (turn.model !== undefined && turn.role === "model") entry.model = turn.model;
  if (turn.thoughts !== undefined && turn.thoughts !== "") entry.thoughts = turn.thoughts;
  if (turn.toolCalls !== undefined && turn.toolCalls.length > 0) entry.tools = turn.toolCalls;
  return entry;
}

/** History turns as entries; a compaction (user turn marked `compacted` + summary) becomes one divider. */
async function historyEntries(turns: readonly HistoryTurn[], images: ImageCache): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < turns.length; i += 1) {
    const turn = turns[i] as HistoryTurn;
    if (turn.role === "user" && turn.compacted !== undefined) {
      const summary = turns[i + 1]?.role === "model" ? (turns[i + 1] as HistoryTurn) : undefined;
      entries.push({ id: `h${i}`, role: "compacted", text: summary?.text ?? "", turns: turn.compacted });
      if (summary !== undefined) i += 1;
      continue;
    }
    const entry = turnEntry(turn, `h${i}`);
    if (turn.images !== undefined && turn.images.length > 0) entry.images = await images.views(turn.images);
    entries.push(entry);
  }
  return entries;
}
