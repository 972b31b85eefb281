/** Code blocks into files, as text: re-indenting, the whole-file test, the changed lines. Free of `vscode`. */

/** How the target editor indents. */
export interface IndentStyle {
  insertSpaces: boolean;
  tabSize: number;
}

/** A block's lines without a trailing empty line (a fence's code ends with a line break). */
function blockLines(block: string): string[] {
  const lines = block.replace(/\r\n?/g, "\n").split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function leading(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

/** The indentation's width in columns (a tab moves to the next tab stop). */
function width(indent: string, tabSize: number): number {
  let col = 0;
  for (const ch of indent) col = ch === "\t" ? col + tabSize - (col % tabSize) : col + 1;
  return col;
}

/** `columns` of indentation written the editor's way. */
function indentOf(columns: number, style: IndentStyle): string {
  if (style.insertSpaces) return " ".repeat(columns);
  return "\t".repeat(Math.floor(columns / style.tabSize)) + " ".repeat(columns % style.tabSize);
}

/** The block's lines with their common indentation removed, relative indents kept (in columns). */
export function dedent(block: string, tabSize = 4): { columns: number; text: string }[] {
  const lines = blockLines(block);
  const widths = lines.filter((l) => l.trim() !== "").map((l) => width(leading(l), tabSize));
  const common = widths.length === 0 ? 0 : Math.min(...widths);
  return lines.map((line) =>
    line.trim() === ""
      ? { columns: 0, text: "" }
      : { columns: width(leading(line), tabSize) - common, text: line.slice(leading(line).length) },
  );
}

/** The block as lines indented by `base` plus each line's own relative indent. */
function indentLines(block: string, base: string, style: IndentStyle): string[] {
  const baseColumns = width(base, style.tabSize);
  return dedent(block, style.tabSize).map((l) =>
    l.text === "" ? "" : indentOf(baseColumns + l.columns, style) + l.text,
  );
}

/** The columns of the cursor's line an insertion replaces, and the text that goes there. */
export interface Insertion {
  from: number;
  to: number;
  text: string;
}

/**
 * A block inserted at `cursor` of `line`, re-indented as VS Code's snippet insertion does: every
 * line after the first gets the line's indentation. When only whitespace precedes the cursor,
 * whole lines are written from the line's start, and the text after the cursor moves below.
 * A blank line (autosave trims its indentation, so the cursor sits at column 0 of an empty line
 * inside a class) takes the next non-blank line's indentation when that is deeper, so a method
 * lands in the class body.
 */
export function insertAt(
  line: string,
  cursor: number,
  nextNonBlank: string | undefined,
  block: string,
  style: IndentStyle,
): Insertion {
  const before = line.slice(0, cursor);
  if (before.trim() !== "") {
    const indent = leading(line);
    const [first = "", ...rest] = indentLines(block, indent, style);
    return { from: cursor, to: cursor, text: [first.trimStart(), ...rest].join("\n") };
  }
  let indent = before;
  if (line.trim() === "" && nextNonBlank !== undefined && leading(nextNonBlank).length > indent.length) {
    indent = leading(nextNonBlank);
  }
  const lines = indentLines(block, indent, style).join("\n");
  const after = line.slice(cursor);
  if (after.trim() === "") return { from: 0, to: line.length, text: lines };
  return { from: 0, to: cursor, text: `${lines}\n${before}` };
}

/** The block replacing whole lines whose first line is indented by `indent`. */
export function textForLines(block: string, indent: string, style: IndentStyle): string {
  return indentLines(block, indent, style).join("\n");
}

function firstCodeLine(lines: string[]): string | undefined {
  return lines.find((l) => l.trim() !== "")?.trim();
}

/**
 * Whether `block` is a whole new version of `file`: it starts like the file and is at least half
 * as long (a function is not a file; a file with an edit in its middle is).
 */
export function isWholeFile(block: string, file: string): boolean {
  const blockL = blockLines(block);
  const fileL = blockLines(file);
  if (fileL.length === 0 || blockL.length < 2) return false;
  return firstCodeLine(blockL) === firstCodeLine(fileL) && blockL.length * 2 >= fileL.length;
}

/** A file's text with lines `start`..`end` (0-based, inclusive) replaced by the block. */
export function replaceLines(
  file: string,
  start: number,
  end: number,
  block: string,
  style: IndentStyle,
): string {
  const eol = file.includes("\r\n") ? "\r\n" : "\n";
  const lines = file.split(/\r?\n/);
  const first = Math.max(0, Math.min(start, lines.length - 1));
  const last = Math.max(first, Math.min(end, lines.length - 1));
  const indent = leading(lines[first] ?? "");
  const replacement = textForLines(block, indent, style).split("\n");
  return [...lines.slice(0, first), ...replacement, ...lines.slice(last + 1)].join(eol);
}

/** The one span that differs between two texts: where it starts, and where it ends in each. */
export function changedSpan(
  before: string,
  after: string,
): { start: number; endBefore: number; endAfter: number } {
  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && before[start] === after[start]) start += 1;
  let suffix = 0;
  while (
    suffix < shorter - start &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  return { start, endBefore: before.length - suffix, endAfter: after.length - suffix };
}

/** A whole-file block as the file's new text: the file's line breaks, and its final one kept. */
export function asWholeFile(block: string, file: string): string {
  const eol = file.includes("\r\n") ? "\r\n" : "\n";
  const text = blockLines(block).join(eol);
  return /\r?\n$/.test(file) ? text + eol : text;
}

/** "src/a.py:11-20" (an attachment's name) as the path and 0-based inclusive lines. */
export function parseAttachmentName(name: string): { path: string; lines?: [number, number] } {
  const m = /^(.*):(\d+)-(\d+)$/.exec(name);
  if (m === null) return { path: name };
  return { path: m[1] as string, lines: [Number(m[2]) - 1, Number(m[3]) - 1] };
}
