/** The folder's conversation as other editors change it: their turns streaming in, the store's changes. */

import type { ChangeReason, ConversationChanged, TurnProgress } from "./protocol";
import type { Transcript, Turn } from "./transcript";

/** What the follower needs from the chat. */
export interface LiveHost {
  readonly transcript: Transcript;
  /** The shown folder's URI. */
  shown(): string | undefined;
  /** This window's own turn is in flight: the history is reloaded when it ends. */
  busy(): boolean;
  /** Read the history (and what depends on it) again. */
  reload(): Promise<void>;
  /** Another conversation became the folder's (reset, open, deleted). */
  replaced(): void;
}

/**
 * Whether a change replaces the conversation shown (`shown`: its id, undefined when not known):
 * the shown one archived or deleted, or another one opened. This window's own New Chat, open or
 * delete shows at once and names what it shows, so its notification, arriving later, changes
 * nothing (a question asked right after New Chat stays).
 */
export function replacesShown(
  reason: ChangeReason,
  changed: string | null,
  shown: string | null | undefined,
): boolean {
  switch (reason) {
    case "reset":
    case "deleted":
      return shown !== undefined && changed === shown;
    case "open":
      return changed !== shown;
    default:
      return false;
  }
}

/**
 * Two spellings of one folder URI (the daemon echoes what it was given; encodings and a trailing
 * slash may differ). Case counts: the daemon keys folders case-sensitively, so /Proj and /proj
 * are two conversations.
 */
export function sameFolder(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const norm = (u: string): string => decodeURIComponent(u).replace(/\/+$/, "");
  return norm(a) === norm(b);
}

/**
 * Applies `gemini/turnProgress` and `gemini/conversationChanged` to the transcript, whether the
 * view is shown or not (a hidden view is drawn from the transcript when it comes back).
 */
export class LiveFollower {
  private mirrored: Turn | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private deferred = false;

  constructor(private readonly host: LiveHost) {}

  /** Another editor's turn on some folder. */
  turnProgress(p: TurnProgress): void {
    if (!sameFolder(p.workspace, this.host.shown())) return;
    const t = this.host.transcript;
    switch (p.state) {
      case "started":
        if (this.mirrored !== undefined) t.mirrorDrop(this.mirrored);
        this.mirrored = t.mirrorStart(p.message ?? "", p.image);
        if ((p.text ?? "") !== "") t.mirrorText(this.mirrored, p.text ?? "", p.thoughts ?? "");
        break;
      case "streaming":
        // Shown after its start (the view opened mid-turn): its question is in the store soon.
        this.mirrored ??= t.mirrorStart(p.message ?? "");
        t.mirrorText(this.mirrored, p.text ?? "", p.thoughts ?? "");
        break;
      case "finished":
        if (this.mirrored !== undefined) {
          t.mirrorFinish(this.mirrored, p.text ?? "", p.thoughts ?? "", p.images);
        }
        this.mirrored = undefined;
        this.requestReload();
        break;
      case "failed":
      case "cancelled":
        if (this.mirrored !== undefined) t.mirrorDrop(this.mirrored);
        this.mirrored = undefined;
        // A daemon that died mid-turn left it in the history as `interrupted`.
        if (p.interrupted === true) this.requestReload();
        break;
    }
  }

  /** The store changed for some folder (any daemon's doing, this one's included). */
  conversationChanged(p: ConversationChanged): void {
    if (!sameFolder(p.workspace, this.host.shown())) return;
    if (replacesShown(p.reason, p.conversation, this.host.transcript.conversation)) this.host.replaced();
    this.requestReload();
  }

  /** Another folder is shown: a turn mirrored from the old one is not its. */
  forget(): void {
    if (this.mirrored !== undefined) this.host.transcript.mirrorDrop(this.mirrored);
    this.mirrored = undefined;
  }

  /** This window's turn ended: a reload held back while it ran happens now. */
  turnEnded(): void {
    if (this.deferred) this.requestReload();
  }

  /** Reload once now, and once more if asked again meanwhile; after this window's turn if one runs. */
  requestReload(): void {
    if (this.host.busy()) {
      this.deferred = true;
      return;
    }
    this.deferred = false;
    if (this.reloading !== undefined) {
      this.again = true;
      return;
    }
    this.reloading = this.host.reload().finally(() => {
      this.reloading = undefined;
      if (this.again) {
        this.again = false;
        this.requestReload();
      }
    });
  }
}
