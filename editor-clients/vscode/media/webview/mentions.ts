/** `#` in the input offers the folder's files (like `#file` in Copilot Chat); picking one attaches it. */

import type { FileChoice } from "../../src/messages";
import { el, icon } from "./dom";
import { byId, post } from "./state";

const input = byId<HTMLTextAreaElement>("input");
const list = byId<HTMLElement>("mentions");

let query: string | undefined;
let choices: FileChoice[] = [];
let active = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

/** The `#word` just before the caret, if any: its start and what follows the `#`. */
function mentionAtCaret(): { start: number; query: string } | undefined {
  const before = input.value.slice(0, input.selectionStart);
  const m = /(^|\s)#([^\s#]*)$/.exec(before);
  if (m === null) return undefined;
  return { start: before.length - (m[2] as string).length - 1, query: m[2] as string };
}

function close(): void {
  query = undefined;
  choices = [];
  list.hidden = true;
  list.replaceChildren();
}

function pick(choice: FileChoice): void {
  const at = mentionAtCaret();
  if (at !== undefined) {
    const caret = input.selectionStart;
    input.value = input.value.slice(0, at.start) + input.value.slice(caret);
    input.selectionStart = input.selectionEnd = at.start;
    input.dispatchEvent(new Event("input"));
  }
  close();
  post({ type: "attachPath", path: choice.path });
  input.focus();
}

function render(): void {
  list.replaceChildren(
    ...choices.map((c, i) => {
      const row = el("div", i === active ? "mention active" : "mention");
      row.setAttribute("role", "option");
      row.setAttribute("aria-selected", String(i === active));
      row.append(icon("file"), el("span", "mention-name", c.name), el("span", "mention-path", c.path));
      // mousedown, not click: the input keeps its focus and caret.
      row.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(c);
      });
      return row;
    }),
  );
  if (choices.length === 0) list.append(el("div", "mention empty", "No file matches"));
  list.hidden = false;
  list.querySelector(".mention.active")?.scrollIntoView({ block: "nearest" });
}

/** The input changed: open, narrow or close the list. */
export function mentionInput(): void {
  const at = mentionAtCaret();
  if (at === undefined) {
    close();
    return;
  }
  query = at.query;
  clearTimeout(timer);
  timer = setTimeout(() => post({ type: "searchFiles", query: at.query }), 80);
}

/** The host's matches for a query (stale ones are dropped). */
export function showFiles(forQuery: string, files: FileChoice[]): void {
  if (forQuery !== query) return;
  choices = files;
  active = 0;
  render();
}

/** Keys while the list is open: arrows move, Enter or Tab pick, Escape closes. True when handled. */
export function mentionKeydown(event: KeyboardEvent): boolean {
  if (list.hidden || query === undefined) return false;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const step = event.key === "ArrowDown" ? 1 : -1;
    active = (active + step + choices.length) % Math.max(1, choices.length);
    render();
  } else if ((event.key === "Enter" || event.key === "Tab") && choices[active] !== undefined) {
    pick(choices[active] as FileChoice);
  } else if (event.key === "Escape") {
    close();
  } else {
    return false;
  }
  event.preventDefault();
  return true;
}

input.addEventListener("blur", () => setTimeout(close, 150));
