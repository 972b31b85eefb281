/** The rate limit last met (`gemini/status` rateLimit), for the status bar: which quota, and when it lifts. */

import * as vscode from "vscode";
import type { RateLimit } from "./protocol";
import { rateLimitHolds } from "./usageText";

/** Keeps the daemon's newest 429 and says while it holds; fires when that changes (and once a second meanwhile). */
export class RateLimitWatch implements vscode.Disposable {
  private current: RateLimit | undefined;
  /** A reply on the limited model came through after the 429: it no longer holds, whatever was said. */
  private passed = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  /** The newest 429 the daemon met, if any. */
  get limit(): RateLimit | undefined {
    return this.current;
  }

  /** Whether the limit still holds now (the API said when it lifts, that is later, and no reply got through since). */
  holds(now = new Date()): boolean {
    return this.current !== undefined && !this.passed && rateLimitHolds(this.current, now);
  }

  /** The daemon's newest 429 as its status said (after a turn, on start): it changes only with a new 429. */
  statusRead(limit: RateLimit | undefined): void {
    if (limit === undefined || limit.at === this.current?.at) return;
    this.current = limit;
    this.passed = false;
    this.changed();
  }

  /** A reply of `model` came through: a limit on that model no longer holds. */
  replied(model: string): void {
    if (this.current?.model !== model || this.passed) return;
    this.passed = true;
    this.changed();
  }

  dispose(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.emitter.dispose();
  }

  /** Tell, and keep telling once a second while it holds (the status bar counts down). */
  private changed(): void {
    this.emitter.fire();
    if (this.holds() && this.timer === undefined) {
      this.timer = setInterval(() => {
        this.emitter.fire();
        if (!this.holds() && this.timer !== undefined) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      }, 1000);
    }
  }
}
