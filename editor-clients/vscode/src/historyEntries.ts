/** The daemon's history as transcript entries: turns, compaction dividers, an interrupted turn. */

import type { ImageCache } from "./images";
import type { AttachmentView, Entry } from "./messages";
import type { ChatResult, GenerateImageResult, HistoryTurn, InterruptedTurn } from "./protocol";

/** What a finished turn of this window answered: a chat reply, or Imagen's images. */
export type TurnResult = ChatResult | GenerateImageResult;

/**
 * Whether a result is a chat reply's. Not `text`: Imagen's result carries an empty `text` and
 * `thoughts` too (the fields of a model turn); `finishReason` is a chat reply's alone.
 */
export function isChatResult(result: TurnResult): result is ChatResult {
  return "finishReason" in result;
}

function attachmentViews(attachments: { name: string; mimeType?: string }[] | undefined): AttachmentView[] {
  return (attachments ?? []).map((a) =>
    a.mimeType === undefined ? { name: a.name } : { name: a.name, mimeType: a.mimeType },
  );
}

/** One history turn as an entry (without images; they are read separately). */
function turnEntry(turn: HistoryTurn, id: string): Entry {
  const entry: Entry = { id, role: turn.role, text: turn.text };
  const attachments = attachmentViews(turn.attachments);
  if (attachments.length > 0) entry.attachments = attachments;
  if (turn.usage !== undefined) entry.usage = turn.usage;
  if (turn.model !== undefined && turn.role === "model") entry.model = turn.model;
  if (turn.thoughts !== undefined && turn.thoughts !== "") entry.thoughts = turn.thoughts;
  if (turn.toolCalls !== undefined && turn.toolCalls.length > 0) entry.tools = turn.toolCalls;
  if (turn.imagen !== undefined) entry.imagen = turn.imagen;
  if (turn.filtered !== undefined && turn.filtered.length > 0) entry.filtered = turn.filtered;
  if (turn.json !== undefined) entry.json = turn.json;
  return entry;
}

/** A finished turn's result into its reply entry (the images read from the daemon's files). */
export async function finishEntry(reply: Entry, result: TurnResult, images: ImageCache): Promise<void> {
  reply.model = result.model;
  if (result.usage !== undefined) reply.usage = result.usage;
  if (result.redacted !== undefined && result.redacted.length > 0) reply.redacted = result.redacted;
  if (result.images !== undefined && result.images.length > 0)
    reply.images = await images.views(result.images);
  if ("filtered" in result && result.filtered !== undefined && result.filtered.length > 0) {
    reply.filtered = result.filtered;
  }
  if (!isChatResult(result)) {
    reply.text = "";
    return;
  }
  reply.text = result.text;
  if (result.thoughts !== "") reply.thoughts = result.thoughts;
  if (result.toolCalls !== undefined && result.toolCalls.length > 0) reply.tools = result.toolCalls;
  if (result.json !== undefined) reply.json = result.json;
}

/** History turns as entries; a compaction (user turn marked `compacted` + summary) becomes one divider. */
export async function historyEntries(turns: readonly HistoryTurn[], images: ImageCache): Promise<Entry[]> {
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

/** The turn a daemon left when it died mid-reply: its question and the reply so far, to send again. */
export function interruptedEntries(turn: InterruptedTurn): Entry[] {
  const user: Entry = { id: `i-u-${turn.time}`, role: "user", text: turn.message };
  const attachments = attachmentViews(turn.attachments);
  if (attachments.length > 0) user.attachments = attachments;
  // Marked as Imagen's, as a stored request is: Send again reads what to draw from it.
  if (turn.image !== undefined) user.imagen = turn.image;
  const interrupted = turn.image === undefined ? "chat" : "image";
  const reply: Entry = { id: `i-m-${turn.time}`, role: "model", text: turn.text, interrupted };
  if (turn.thoughts !== "") reply.thoughts = turn.thoughts;
  return [user, reply];
}

/** Whether two entries show the same message (ids and extras aside). */
export function sameEntry(a: Entry, b: Entry): boolean {
  return a.role === b.role && a.text === b.text && (a.turns ?? 0) === (b.turns ?? 0);
}
