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

/** How long this window's own change waits for its notification (the feed takes about 100 ms). */
const ECHO_MS = 3000;

/** Reasons after which the shown conversation is another one. */
const REPLACING: readonly ChangeReason[] = ["reset", "open", "deleted"];

/** Two spellings of one folder URI (the daemon echoes what it was given; encodings may differ). */
export function sameFolder(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const norm = (u: string): string => decodeURIComponent(u).replace(/\/+$/, "").toLowerCase();
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
  /** Replacing changes this window made itself, until their notification comes back (or a while passes). */
  private echoes: { reason: ChangeReason; until: number }[] = [];

  constructor(private readonly host: LiveHost) {}

  /**
   * This window is about to make a replacing change (New Chat, open, delete) and shows it at once:
   * its notification, arriving later, must not clear what was shown since (a question asked
   * right after New Chat).
   */
  expect(reason: ChangeReason): void {
    this.echoes.push({ reason, until: Date.now() + ECHO_MS });
  }

  /** Whether another editor's reply is streaming into the view. */
  get mirroring(): boolean {
    return this.mirrored !== undefined;
  }

  /** Another editor's turn on some folder. */
  turnProgress(p: TurnProgress): void {
    if (!sameFolder(p.workspace, this.host.shown())) return;
    const t = this.host.transcript;
    switch (p.state) {
      case "started":
        if (this.mirrored !== undefined) t.mirrorDrop(this.mirrored);
        this.mirrored = t.mirrorStart(p.message ?? "");
        if ((p.text ?? "") !== "") t.mirrorText(this.mirrored, p.text ?? "", p.thoughts ?? "");
        break;
      case "streaming":
        // Shown after its start (the view opened mid-turn): its question is in the store soon.
        this.mirrored ??= t.mirrorStart(p.message ?? "");
        t.mirrorText(this.mirrored, p.text ?? "", p.thoughts ?? "");
        break;
      case "finished":
        if (this.mirrored !== undefined) t.mirrorFinish(this.mirrored, p.text ?? "", p.thoughts ?? "");
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
    if (REPLACING.includes(p.reason) && !this.isEcho(p.reason)) this.host.replaced();
    this.requestReload();
  }

  private isEcho(reason: ChangeReason): boolean {
    const now = Date.now();
    this.echoes = this.echoes.filter((e) => e.until > now);
    const echo = this.echoes.find((e) => e.reason === reason);
    if (echo !== undefined) this.echoes = this.echoes.filter((e) => e !== echo);
    return echo !== undefined;
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
