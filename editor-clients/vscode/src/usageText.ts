/**
 * What a turn used and cost, and the rate limit last met, in words (no `vscode`: the webview's
 * usage line and the host's status bar both use it). The daemon prices each reply from its
 * dated price table (`usage.cost`) and keeps the newest 429 (`gemini/status` rateLimit); this
 * only words them.
 */

import { imageCount } from "./imageAsk";
import type { RateLimit, Usage } from "./protocol";

/** `$0.0012`: two decimals from a cent up, else two significant digits (as aider and the terminal client). */
export function money(amount: number, currency = "USD"): string {
  const digits = amount === 0 || Math.abs(amount) >= 0.01 ? 2 : 2 - Math.trunc(Math.log10(Math.abs(amount)));
  const number = amount.toFixed(Math.min(digits, 20));
  return currency === "USD" ? `$${number}` : `${number} ${currency}`;
}

/** The tokens (or, for Imagen, the images) of a reply: "1,204 in (800 cached) · 96 out · 40 thinking tokens". */
export function usageAmount(usage: Usage): string {
  if (usage.images !== undefined) return imageCount(usage.images);
  let prompt = `${usage.promptTokens.toLocaleString("en-US")} in`;
  if ((usage.cachedTokens ?? 0) > 0)
    prompt += ` (${(usage.cachedTokens ?? 0).toLocaleString("en-US")} cached)`;
  const parts = [prompt, `${usage.replyTokens.toLocaleString("en-US")} out`];
  if (usage.thoughtsTokens > 0) parts.push(`${usage.thoughtsTokens.toLocaleString("en-US")} thinking`);
  return `${parts.join(" · ")} tokens`;
}

/** "$0.00014 reply, $0.0021 conversation", or undefined for a model without a price (tokens only). */
export function costText(usage: Usage): string | undefined {
  const cost = usage.cost;
  if (cost === undefined || typeof cost.reply !== "number" || typeof cost.conversation !== "number") {
    return undefined;
  }
  return `${money(cost.reply, cost.currency)} reply, ${money(cost.conversation, cost.currency)} conversation`;
}

const QUOTAS = { minute: "per-minute quota", day: "daily quota" } as const;

/** Whether the rate limit still holds at `now` (as far as the API said when it lifts). */
export function rateLimitHolds(limit: RateLimit, now: Date): boolean {
  return limit.resetsAt !== null && Date.parse(limit.resetsAt) > now.getTime();
}

/** For the status bar: "daily quota · lifts at 09:00", "per-minute quota · lifts in 42 s". */
export function rateLimitShort(limit: RateLimit, now: Date): string {
  const what = limit.quota === null ? "rate limited" : QUOTAS[limit.quota];
  if (limit.resetsAt === null) return what;
  const resets = new Date(limit.resetsAt);
  const wait = resets.getTime() - now.getTime();
  return wait < 60 * 60_000 ? `${what} · lifts in ${span(wait)}` : `${what} · lifts at ${clock(resets, now)}`;
}

/**
 * In full, for a tooltip: "The daily quota of gemini-2.5-flash ran out at 14:03:27; it lifts at
 * 09:00 tomorrow (in 18 h 56 min)." Local times.
 */
export function rateLimitText(limit: RateLimit, now: Date): string {
  const at = new Date(limit.at);
  const when = Number.isNaN(at.getTime()) ? "" : ` at ${clock(at, now, true)}`;
  const what =
    limit.quota === null
      ? `${limit.model} was rate limited${when}`
      : `The ${QUOTAS[limit.quota]} of ${limit.model} ran out${when}`;
  if (limit.resetsAt === null) return `${what}; the API did not say when it lifts.`;
  const resets = new Date(limit.resetsAt);
  if (resets.getTime() <= now.getTime()) return `${what}; it lifted at ${clock(resets, now, true)}.`;
  return `${what}; it lifts at ${clock(resets, now, true)} (in ${span(resets.getTime() - now.getTime())}).`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "14:03" (with seconds: "14:03:27") today, else with "tomorrow" or the date. Local time. */
function clock(moment: Date, now: Date, seconds = false): string {
  let time = `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
  if (seconds) time += `:${pad(moment.getSeconds())}`;
  const day = (d: Date): number => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(moment) - day(now)) / 86_400_000);
  if (days === 0) return time;
  if (days === 1) return `${time} tomorrow`;
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ${time}`;
}

/** "42 s", "4 min 10 s", "7 h 3 min". */
export function span(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes < 60) return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}
