/** A reply asked as JSON: drawn as a highlighted, pretty-printed JSON block, with the daemon's check told beside it. */

import type { Entry } from "../../src/messages";
import { el, icon } from "./dom";

/** Markdown for a fenced block holding `text` (the fence outgrows any backticks inside). */
function fenced(text: string, lang: string): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}

/**
 * The Markdown a model entry is drawn from: a JSON reply's parsed value pretty-printed (or, while
 * it streams or when it did not parse, its text as it came) in a json block; any other reply as is.
 */
export function replyMarkdown(entry: Entry): string {
  if (entry.json?.value !== undefined) return fenced(JSON.stringify(entry.json.value, null, 2), "json");
  if (entry.asJson !== undefined || entry.json !== undefined) {
    return entry.text === "" ? "" : fenced(entry.text, "json");
  }
  return entry.text;
}

/** "schemas/person.schema.json", or words for a schema whose file is not known here. */
function schemaName(entry: Entry): string | undefined {
  return entry.asJson?.schema;
}

/**
 * The check under a JSON reply: "Valid JSON, matches person.schema.json", or what does not match
 * and where (`$.age: 'old' is not of type 'integer'`), one line each, never folded away.
 */
export function jsonVerdict(entry: Entry): HTMLElement | undefined {
  const check = entry.json;
  if (check === undefined) return undefined;
  const schema = schemaName(entry);
  const box = el("div", `json-verdict ${check.valid ? "valid" : "invalid"}`);
  box.setAttribute("role", "status");
  const head = el("div", "json-verdict-head");
  if (check.valid) {
    const what = schema === undefined ? "Valid JSON" : `Valid JSON, matches ${schema}`;
    head.append(icon("pass"), el("span", undefined, what));
    box.append(head);
    return box;
  }
  const notJson = check.errors.some((e) => e.startsWith("The reply is not JSON"));
  const count = check.errors.length;
  const what = notJson
    ? "The reply is not JSON"
    : `Does not match ${schema ?? "the schema"}: ${count} ${count === 1 ? "problem" : "problems"}`;
  head.append(icon("warning"), el("span", undefined, what));
  const list = el("ul", "json-errors");
  for (const error of check.errors) list.append(el("li", undefined, error));
  box.append(head, list);
  return box;
}

/** The badge of a question asked as JSON: "JSON" or "JSON · person.schema.json". */
export function jsonBadgeText(entry: Entry): string | undefined {
  if (entry.asJson === undefined) return undefined;
  const schema = entry.asJson.schema;
  return schema === undefined ? "JSON" : `JSON · ${schema.split("/").pop() ?? schema}`;
}
