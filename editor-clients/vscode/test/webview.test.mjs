// The chat webview in real headless Chromium: the real HTML (CSP, nonce), script and CSS, with a
// stand-in for VS Code's host side (acquireVsCodeApi + postMessage).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { waitFor } from "./helpers.mjs";
import { PNG_SRC, state, usage, useWebview } from "./webviewPage.mjs";

const SUMMARY = "The user asked how to **add** numbers; we wrote `add(a, b)` in src/app.py.";

const HISTORY = [
  {
    id: "h0",
    role: "user",
    text: "How do I add two numbers in Python?",
    attachments: [{ name: "src/app.py:1-2" }],
  },
  {
    id: "h1",
    role: "model",
    text: "Use a small function:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThen call `add(2, 3)`, which returns **5**.",
    usage,
    model: "gemini-2.5-flash",
  },
];

describe("chat webview in Chromium", () => {
  const ctx = useWebview();
  const { send, posted, log } = ctx;

  test("history renders as Markdown with highlighted code and token usage", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await log().locator(".entry.model").waitFor();
    assert.equal(await log().locator(".entry").count(), 2);
    assert.equal(await log().locator(".entry.model strong").innerText(), "5");
    assert.ok((await log().locator(".code-block .hljs-keyword").count()) > 0, "code is highlighted");
    assert.match(await log().locator(".entry.model .entry-footer").innerText(), /41 in · 9 out tokens/);
    assert.match(await log().locator(".entry.user .chip").innerText(), /app\.py:1-2/);
    assert.equal(await log().locator(".entry.user .chip").getAttribute("title"), "src/app.py:1-2");
    assert.deepEqual(await ctx.page.evaluate(() => window.__violations), [], "no CSP violations");
    await screenshot(ctx.page, "webview-history");
  });

  test("a streamed reply grows piece by piece, then shows its usage", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Count to three" },
      { id: "m1", role: "model", text: "", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    const body = log().locator('[data-id="m1"] .entry-body');
    await send({ type: "delta", id: "m1", text: "One, " });
    await waitFor("the first piece", async () => (await body.innerText()).includes("One,"));
    assert.ok(!(await body.innerText()).includes("two"));
    await send({ type: "delta", id: "m1", text: "two, " });
    await send({ type: "delta", id: "m1", text: "three." });
    await waitFor("all pieces", async () => (await body.innerText()).includes("One, two, three."));
    const done = { ...entries[1], text: "One, two, three.", streaming: false, usage };
    await send({ type: "entry", entry: done });
    await send({ type: "busy", busy: false });
    await waitFor(
      "the usage line",
      async () => (await log().locator('[data-id="m1"] .entry-footer').count()) === 1,
    );
    assert.equal(await ctx.page.locator(".cursor").count(), 0);
  });

  test("Enter sends, Shift+Enter makes a new line, and the input is cleared", async () => {
    await send({ type: "snapshot", state: state() });
    const input = ctx.page.locator("#input");
    await input.click();
    await input.pressSequentially("line one");
    await input.press("Shift+Enter");
    await input.pressSequentially("line two");
    assert.equal((await posted()).filter((m) => m.type === "send").length, 0);
    await input.press("Enter");
    const sent = (await posted()).filter((m) => m.type === "send");
    assert.deepEqual(sent, [{ type: "send", text: "line one\nline two" }]);
    assert.equal(await input.inputValue(), "");
  });

  test("while a reply streams, Stop shows beside Send and cancels it", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Write a long story" },
      { id: "m1", role: "model", text: "Once upon a time", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await ctx.page.locator("#stop").waitFor({ state: "visible" });
    assert.match(await ctx.page.locator("#send").getAttribute("title"), /Queue/);
    await screenshot(ctx.page, "webview-streaming");
    await ctx.page.locator("#stop").click();
    assert.ok((await posted()).some((m) => m.type === "stop"));
    await send({ type: "entry", entry: { ...entries[1], streaming: false, stopped: true } });
    await send({ type: "busy", busy: false });
    await ctx.page.locator("#stop").waitFor({ state: "hidden" });
    assert.match(await log().locator('[data-id="m1"] .entry-footer').innerText(), /Stopped/);
  });

  test("code blocks have Copy, Insert and Apply buttons that send the block's code", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    const block = log().locator(".code-block").first();
    await block.getByRole("button", { name: "Copy" }).click();
    await block.getByRole("button", { name: "Insert" }).click();
    await block.getByRole("button", { name: "Apply" }).click();
    const code = "def add(a, b):\n    return a + b\n";
    const kinds = new Set(["copy", "insert", "apply"]);
    const actions = (await posted()).filter((m) => kinds.has(m.type));
    assert.deepEqual(actions, [
      { type: "copy", text: code },
      { type: "insert", text: code },
      { type: "apply", text: code, id: "h1" },
    ]);
  });

  test("HTML and scripts in a reply render as inert text; nothing runs", async () => {
    const evil =
      'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>\n\n' +
      "[click](javascript:window.__pwned=3) <iframe src=javascript:window.__pwned=4></iframe>\n\n" +
      '<a href="#" onclick="window.__pwned=5">a</a>';
    const entries = [{ id: "m1", role: "model", text: evil }];
    await send({ type: "snapshot", state: state({ entries }) });
    const body = log().locator('[data-id="m1"] .entry-body');
    await body.waitFor();
    assert.equal(await body.locator("img, script, iframe, [onerror], [onclick]").count(), 0);
    const text = await body.innerText();
    assert.ok(text.includes('<img src=x onerror="window.__pwned=1">'), text);
    assert.ok(text.includes("<script>window.__pwned=2</script>"), text);
    const hrefs = await body.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert.ok(
      hrefs.every((h) => h === null || !h.startsWith("javascript:")),
      JSON.stringify(hrefs),
    );
    await body.locator("a").evaluateAll((as) => {
      for (const a of as) a.click();
    });
    assert.equal(await ctx.page.evaluate(() => window.__pwned), undefined);
  });

  test("an error shows inline with its action", async () => {
    const entries = [
      { id: "u1", role: "user", text: "hi" },
      { id: "e1", role: "error", text: "No Gemini API key: set GEMINI_API_KEY.", action: "setApiKey" },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    await log().getByRole("button", { name: "Set API Key" }).click();
    assert.ok((await posted()).some((m) => m.type === "action" && m.action === "setApiKey"));
    await screenshot(ctx.page, "webview-error");
  });

  test("the draft survives the view being hidden and shown again", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await ctx.page.locator("#input").fill("half-written question");
    await ctx.page.locator("#input").dispatchEvent("input");
    await ctx.page.reload();
    await waitFor("ready after reload", async () => (await posted()).some((m) => m.type === "ready"));
    assert.equal(await ctx.page.locator("#input").inputValue(), "half-written question");
  });

  test("the model picker and the keyboard reach every control", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await ctx.page.locator("#model").selectOption("gemini-2.5-pro");
    assert.ok((await posted()).some((m) => m.type === "selectModel" && m.model === "gemini-2.5-pro"));
    await ctx.page.locator("#input").focus();
    await ctx.page.keyboard.press("Shift+Tab");
    const focused = await ctx.page.evaluate(
      () => document.activeElement?.id || document.activeElement?.className,
    );
    assert.ok(focused, "Shift+Tab moves focus to a control");
  });

  test("thoughts stream into a collapsed Thoughts block above the answer", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Legs of two dogs?" },
      { id: "m1", role: "model", text: "", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await send({ type: "thought", id: "m1", text: "**Counting** legs: " });
    const details = log().locator('[data-id="m1"] details.thoughts');
    await details.waitFor();
    assert.equal(await details.locator("summary").innerText(), "Thoughts");
    assert.equal(await details.evaluate((d) => d.open), false, "collapsed");
    assert.equal(await details.locator(".thoughts-body").isVisible(), false);
    await details.locator("summary").click();
    await send({ type: "thought", id: "m1", text: "two dogs, four each." });
    const thoughts = details.locator(".thoughts-body");
    await waitFor("the second thought", async () => (await thoughts.innerText()).includes("four each"));
    assert.equal(await details.evaluate((d) => d.open), true, "stays open while thoughts stream");
    await send({ type: "delta", id: "m1", text: "Eight." });
    const body = log().locator('[data-id="m1"] .entry-body');
    await waitFor("the answer", async () => (await body.innerText()).includes("Eight."));
    assert.ok(!(await body.innerText()).includes("Counting"), "thoughts stay out of the answer");
    const usage = { promptTokens: 12, replyTokens: 3, thoughtsTokens: 17, totalTokens: 32 };
    const done = {
      ...entries[1],
      text: "Eight.",
      thoughts: "**Counting** legs: two dogs, four each.",
      usage,
    };
    await send({ type: "entry", entry: done });
    await waitFor("the usage line", async () =>
      /17 thinking/.test(await log().locator('[data-id="m1"] .entry-footer').innerText()),
    );
    const order = await log()
      .locator('[data-id="m1"]')
      .evaluate((n) => [...n.children].map((c) => c.className));
    assert.ok(order.indexOf("thoughts") < order.indexOf("entry-body"), JSON.stringify(order));
  });

  test("tool calls show one line each as they happen, images render inline", async () => {
    const earlier = Array.from({ length: 8 }, (_, i) => ({
      id: `x${i}`,
      role: "user",
      text: `Earlier ${i}`,
    }));
    const entries = [
      ...earlier,
      { id: "u1", role: "user", text: "What does app.py do? Draw it." },
      { id: "m1", role: "model", text: "", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await send({ type: "tool", id: "m1", tool: { name: "read_file", summary: "read src/app.py" } });
    const tools = log().locator('[data-id="m1"] .tool-call');
    await tools.first().waitFor();
    assert.equal(await tools.first().innerText(), "read src/app.py");
    assert.equal(await tools.first().locator(".codicon-file").count(), 1);
    await send({ type: "tool", id: "m1", tool: { name: "search_text", summary: 'searched "add"' } });
    await waitFor("the second tool line", async () => (await tools.count()) === 2);
    await send({ type: "delta", id: "m1", text: "It adds." });
    await send({
      type: "image",
      id: "m1",
      image: { mimeType: "image/png", path: "/data/images/a.png", src: PNG_SRC },
    });
    const img = log().locator('[data-id="m1"] img.reply-image');
    await img.waitFor();
    await waitFor("the image to decode", () => img.evaluate((i) => i.complete && i.naturalWidth === 160));
    await waitFor("the log to follow the image to its end", () =>
      log().evaluate((l) => l.scrollHeight - l.scrollTop - l.clientHeight < 2),
    );
    assert.match(await log().locator('[data-id="m1"] .entry-body').innerText(), /It adds\./);
    assert.deepEqual(await ctx.page.evaluate(() => window.__violations), [], "no CSP violations");
  });

  test("history shows thoughts, tools, images, and compaction as a divider", async () => {
    const entries = [
      { id: "h0", role: "compacted", text: SUMMARY, turns: 3 },
      { id: "h2", role: "user", text: "Read app.py and draw a landscape." },
      {
        id: "h3",
        role: "model",
        text: "`app.py` defines **add**. Here is a landscape:",
        thoughts: "Reading the file first, then drawing.",
        tools: [{ name: "read_file", summary: "read src/app.py" }],
        images: [{ mimeType: "image/png", path: "/data/images/a.png", src: PNG_SRC }],
        usage: { promptTokens: 1204, replyTokens: 310, thoughtsTokens: 96, totalTokens: 1610 },
        model: "gemini-2.5-flash",
      },
    ];
    const contextFiles = [{ name: "GEMINI.md", path: "/work/project/GEMINI.md" }];
    const context = { used: 12345, limit: 1048576 };
    // VS Code's sidebar is narrow: the header must fit (wrapping, not overlapping) there.
    await ctx.page.setViewportSize({ width: 320, height: 720 });
    await send({ type: "snapshot", state: state({ entries, contextFiles, context }) });
    const divider = log().locator(".entry.compacted");
    await divider.waitFor();
    assert.equal(
      await divider.locator("summary").innerText(),
      "3 earlier exchanges summarised to fit the context window",
    );
    const summary = divider.locator(".entry-body");
    assert.equal(await summary.isVisible(), false, "the summary starts collapsed");
    await divider.locator("summary").click();
    assert.match(await summary.innerText(), /how to add numbers/);
    assert.equal(await log().locator('[data-id="h3"] details.thoughts[open]').count(), 0);
    assert.equal(await log().locator('[data-id="h3"] .tool-call').innerText(), "read src/app.py");
    assert.equal(await log().locator('[data-id="h3"] img.reply-image').count(), 1);
    assert.equal(await ctx.page.locator("#context-use").innerText(), "12k / 1M");
    const chip = ctx.page.locator("#context-files .context-chip");
    assert.equal(await chip.innerText(), "GEMINI.md");
    await chip.click();
    assert.ok((await posted()).some((m) => m.type === "openFile" && m.path === "/work/project/GEMINI.md"));
    await waitFor("the image to decode", () =>
      log()
        .locator("img.reply-image")
        .evaluate((i) => i.naturalWidth > 0),
    );
    assert.deepEqual(await ctx.page.evaluate(() => window.__violations), [], "no CSP violations");
    const boxes = await ctx.page
      .locator("#workspace, #context-files, #context-use, .model-label")
      .evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect().toJSON()));
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        assert.ok(apart, `header items overlap: ${JSON.stringify([a, b])}`);
      }
    }
    await screenshot(ctx.page, "webview-extensions");
  });

  test("a blocked message names the category and opens the safety settings", async () => {
    const text =
      "Gemini blocked the message (SAFETY: dangerous content (HIGH)). Rephrase the message, " +
      "or relax the geminiChat.safetySettings setting for dangerous content.";
    const entries = [
      { id: "u1", role: "user", text: "How do I pick a lock?" },
      { id: "e1", role: "error", text, action: "openSafetySettings" },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.match(await log().locator(".entry.error .entry-body").innerText(), /dangerous content/);
    await log().getByRole("button", { name: "Open Safety Settings" }).click();
    assert.ok((await posted()).some((m) => m.type === "action" && m.action === "openSafetySettings"));
  });

  test("a header update moves the picker to the folder's model without redrawing the log", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await log().locator(".entry.model").waitFor();
    await log()
      .locator(".entry.model")
      .evaluate((n) => {
        n.dataset.marker = "kept";
      });
    const header = { ...state(), model: "gemini-2.5-pro", context: { used: 950, limit: 2097152 } };
    delete header.entries;
    await send({ type: "header", header });
    await waitFor(
      "the picker",
      async () => (await ctx.page.locator("#model").inputValue()) === "gemini-2.5-pro",
    );
    assert.equal(await ctx.page.locator("#context-use").innerText(), "950 / 2.1M");
    assert.equal(await log().locator('.entry.model[data-marker="kept"]').count(), 1);
    await send({ type: "header", header: { ...header, context: undefined } });
    await ctx.page.locator("#context-use").waitFor({ state: "hidden" });
  });
});
