// The host's pure logic, without VS Code: code blocks into files (re-indenting, whole files,
// replaced lines, the changed span) and errors as the chat shows them.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const edit = require("../out/codeEdit.js");
const { describeError } = require("../out/api.js");

const spaces = { insertSpaces: true, tabSize: 4 };
const CLASS =
  "class Shape:\n    def area(self):\n        return 0\n\n    def name(self):\n        return 1\n";
const METHOD = "def perimeter(self):\n    return 0\n";

describe("code blocks into files", () => {
  test("at a blank line inside a class, a method takes the next line's indent (the autosaved-Python bug)", () => {
    const at = edit.insertAt("", 0, "    def name(self):", METHOD, spaces);
    assert.deepEqual(at, { from: 0, to: 0, text: "    def perimeter(self):\n        return 0" });
  });

  test("at an indented cursor with text after it, the block goes above and the text keeps its indent", () => {
    const at = edit.insertAt("    def name(self):", 4, undefined, METHOD, spaces);
    assert.deepEqual(at, { from: 0, to: 4, text: "    def perimeter(self):\n        return 0\n    " });
  });

  test("after text on the line, the first line goes at the cursor and the others get the line's indent, as snippets do", () => {
    const at = edit.insertAt("    x = ", 8, undefined, "compute(\n    1,\n)\n", spaces);
    assert.deepEqual(at, { from: 8, to: 8, text: "compute(\n        1,\n    )" });
  });

  test("a block indented in the reply is taken back to its own left edge first; tabs when the editor uses them", () => {
    const at = edit.insertAt("\t", 1, undefined, "        if x:\n            y()\n", {
      insertSpaces: false,
      tabSize: 4,
    });
    assert.deepEqual(at, { from: 0, to: 1, text: "\tif x:\n\t\ty()" });
  });

  test("replacing lines keeps the first line's indent and the file's line breaks", () => {
    const file = "class A:\r\n    def f(self):\r\n        return 1\r\n";
    const out = edit.replaceLines(file, 1, 2, "def f(self) -> int:\n    return 2\n", spaces);
    assert.equal(out, "class A:\r\n    def f(self) -> int:\r\n        return 2\r\n");
  });

  test("a whole file is a block that starts like the file and is at least half as long; a function is not", () => {
    assert.equal(edit.isWholeFile(CLASS.replace("return 1", "return 2"), CLASS), true);
    assert.equal(edit.isWholeFile(METHOD, CLASS), false);
    assert.equal(edit.asWholeFile("a\nb\n", "x\r\ny\r\n"), "a\r\nb\r\n");
  });

  test("the changed span is the one place two texts differ", () => {
    assert.deepEqual(edit.changedSpan("abcXYdef", "abcZdef"), { start: 3, endBefore: 5, endAfter: 4 });
    assert.deepEqual(edit.changedSpan("same", "same"), { start: 4, endBefore: 4, endAfter: 4 });
  });

  test("an attachment's name gives the file and its lines back", () => {
    assert.deepEqual(edit.parseAttachmentName("src/a.py:11-20"), { path: "src/a.py", lines: [10, 19] });
    assert.deepEqual(edit.parseAttachmentName("docs/notes.txt"), { path: "docs/notes.txt" });
  });
});

describe("errors as the chat shows them", () => {
  test("a storage failure keeps the finished reply's text (shown as not saved)", () => {
    const view = describeError({
      code: -32803,
      message: "Could not save: disk full",
      data: { reason: "storage", text: "The reply." },
    });
    assert.equal(view.reason, "storage");
    assert.equal(view.text, "The reply.");
    assert.equal(view.message, "Could not save: disk full");
  });
});
