// The chat webview in Chromium, the parts added for live turns, attachments and code out: other
// editors' turns, interrupted turns, the queue, masked secrets, unsaved replies, the retry
// countdown, attachment chips, paste, drop, `#`, the model picker's "All models…", code blocks
// on top of VS Code's default webview styles.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { PNG_BASE64, waitFor } from "./helpers.mjs";
import { PNG_SRC, state, usage, useWebview } from "./webviewPage.mjs";

describe("chat webview in Chromium: live turns, attachments, code out", () => {
  const ctx = useWebview();
  const { send, sent, entry } = ctx;

  test("another editor's turn: its question, then its whole reply so far replacing the last, marked as theirs", async () => {
    const entries = [
      { id: "o1", role: "user", text: "What does add return?", fromOther: true },
      { id: "r1", role: "model", text: "", streaming: true, fromOther: true },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    const body = entry("r1").locator(".entry-body");
    await send({ type: "text", id: "r1", text: "It returns" });
    await waitFor("the first text", async () => (await body.innerText()).trim() === "It returns");
    await send({ type: "text", id: "r1", text: "It returns **the sum**." });
    await waitFor(
      "the whole text, not appended",
      async () => (await body.innerText()).trim() === "It returns the sum.",
    );
    assert.equal(await entry("r1").locator(".entry-body strong").innerText(), "the sum");
    assert.equal(await entry("o1").locator(".badge").innerText(), "another editor");
    assert.equal(await entry("r1").locator(".badge").innerText(), "another editor");
    assert.equal(await ctx.page.locator("#stop").isVisible(), false, "Stop is for this window's own replies");
    await screenshot(ctx.page, "webview-mirrored");
  });

  test("an interrupted turn shows its partial reply, says so, and Send again asks the host to resend it", async () => {
    const entries = [
      { id: "i-u-t1", role: "user", text: "Explain the parser" },
      { id: "i-m-t1", role: "model", text: "The parser reads tokens and", interrupted: "chat" },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    const reply = entry("i-m-t1");
    assert.match(
      await reply.locator(".note.interrupted").innerText(),
      /Interrupted: the editor writing this reply/,
    );
    assert.match(await reply.locator(".entry-body").innerText(), /reads tokens and/);
    assert.equal(await reply.getByRole("button", { name: "Draw again" }).count(), 0);
    await reply.getByRole("button", { name: "Send again" }).click();
    assert.deepEqual(await sent("resend"), [{ type: "resend", id: "i-m-t1" }]);
  });

  test("an interrupted image request says an image was being drawn, under its Imagen line, and Draw again asks the host to resend it", async () => {
    const imagen = { model: "imagen-4.0-generate-001", numberOfImages: 2, aspectRatio: "16:9" };
    const entries = [
      { id: "i-u-t2", role: "user", text: "a lighthouse at dusk", imagen },
      { id: "i-m-t2", role: "model", text: "", interrupted: "image" },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    const ask = entry("i-u-t2").locator(".note.imagen");
    assert.equal(await ask.innerText(), "Imagen · 2 images · 16:9 · imagen-4.0-generate-001");
    const reply = entry("i-m-t2");
    assert.match(
      await reply.locator(".note.interrupted").innerText(),
      /Interrupted: the editor drawing this image/,
    );
    assert.equal(await reply.getByRole("button", { name: "Send again" }).count(), 0);
    await reply.getByRole("button", { name: "Draw again" }).click();
    assert.deepEqual((await sent("resend")).at(-1), { type: "resend", id: "i-m-t2" });
  });

  test("Enter while a reply streams sends the question to the host (it queues it); a queued one can be taken back", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Write a long story" },
      { id: "m1", role: "model", text: "Once", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await ctx.page.locator("#input").fill("And a title?");
    await ctx.page.locator("#input").press("Enter");
    assert.deepEqual(await sent("send"), [{ type: "send", text: "And a title?" }]);
    assert.equal(await ctx.page.locator("#input").inputValue(), "", "the question left the input");
    const queued = { id: "u2", role: "user", text: "And a title?", queued: true };
    await send({ type: "snapshot", state: state({ entries: [...entries, queued], busy: true }) });
    assert.equal(await entry("u2").locator(".badge").innerText(), "queued");
    await entry("u2").getByRole("button", { name: "Do not send this question" }).click();
    assert.deepEqual(await sent("unqueue"), [{ type: "unqueue", id: "u2" }]);
  });

  test("masked secrets show as one dim line; a reply the store could not keep shows marked Not saved", async () => {
    const redacted = [
      { kind: "aws-access-key", where: "message" },
      { kind: "github-token", where: "attachments.0" },
    ];
    const entries = [
      { id: "u1", role: "user", text: "Why is [REDACTED:aws-access-key] refused?" },
      { id: "m1", role: "model", text: "Because it is masked.", redacted, usage },
      { id: "u2", role: "user", text: "Once more" },
      { id: "m2", role: "model", text: "The full answer, kept on screen.", notSaved: true },
      {
        id: "e2",
        role: "error",
        text: "Could not save the conversation in /data/store.db: disk full",
        action: "none",
      },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.equal(
      await entry("m1").locator(".note.redacted").innerText(),
      "2 secrets masked before sending (aws-access-key in message, github-token in attachments.0)",
    );
    assert.match(await entry("m2").locator(".entry-body").innerText(), /kept on screen/);
    assert.match(await entry("m2").locator(".entry-footer").innerText(), /Not saved/);
    assert.match(await entry("e2").locator(".entry-body").innerText(), /disk full/);
  });

  test("the rate-limit countdown shows in the waiting reply, second by second", async () => {
    const reply = {
      id: "m1",
      role: "model",
      text: "",
      streaming: true,
      status: "rate limited: retrying in 12 s",
    };
    await send({
      type: "snapshot",
      state: state({ entries: [{ id: "u1", role: "user", text: "hi" }, reply], busy: true }),
    });
    const note = entry("m1").locator(".note.status");
    assert.equal(await note.innerText(), "rate limited: retrying in 12 s");
    await send({ type: "entry", entry: { ...reply, status: "rate limited: retrying in 11 s" } });
    await waitFor("11 s", async () => (await note.innerText()) === "rate limited: retrying in 11 s");
    await screenshot(ctx.page, "webview-countdown");
  });

  test("attachment chips show name, size and an image's thumbnail, and are removable; the active file is one click", async () => {
    const attachments = [
      { name: "docs/diagram.png", mimeType: "image/png", size: 2417, thumb: PNG_SRC },
      { name: "src/app.py:1-2" },
      { name: "spec.pdf", mimeType: "application/pdf", size: 1_200_000 },
    ];
    await send({ type: "snapshot", state: state({ attachments, activeFile: "src/app.py" }) });
    const chips = ctx.page.locator("#attachments .chip");
    assert.equal(await chips.count(), 3);
    assert.equal(await chips.nth(0).locator(".chip-name").innerText(), "diagram.png");
    assert.equal(await chips.nth(0).locator(".chip-size").innerText(), "2 kB");
    await waitFor("the thumbnail", () =>
      chips
        .nth(0)
        .locator("img.chip-thumb")
        .evaluate((i) => i.naturalWidth === 160),
    );
    assert.equal(await chips.nth(2).locator(".codicon-file-pdf").count(), 1);
    assert.equal(await chips.nth(2).locator(".chip-size").innerText(), "1.2 MB");
    await chips.nth(1).getByRole("button", { name: "Remove src/app.py:1-2" }).click();
    assert.deepEqual(await sent("removeAttachment"), [{ type: "removeAttachment", index: 1 }]);
    const active = ctx.page.locator("#active-file");
    assert.equal(await active.innerText(), "app.py");
    await active.click();
    assert.equal((await sent("attachActive")).length, 1);
    await ctx.page.locator("#attach").click();
    assert.equal((await sent("attachFiles")).length, 1);
    await ctx.page.setViewportSize({ width: 320, height: 400 });
    await screenshot(ctx.page, "webview-attachments");
  });

  test("a pasted image goes to the host as base64 data with a name", async () => {
    await send({ type: "snapshot", state: state() });
    await ctx.page.locator("#input").evaluate((input, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "image.png", { type: "image/png" }));
      input.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, PNG_BASE64);
    await waitFor("the attachData message", async () => (await sent("attachData")).length === 1);
    const [message] = await sent("attachData");
    assert.deepEqual(message, {
      type: "attachData",
      name: "pasted-image-1.png",
      mimeType: "image/png",
      data: PNG_BASE64,
    });
  });

  test("files dropped from the explorer go to the host as URIs; files from the desktop as data", async () => {
    await send({ type: "snapshot", state: state() });
    const drop = (setup) =>
      ctx.page.locator("#input").evaluate((input, how) => {
        const data = new DataTransfer();
        if (how === "explorer")
          data.setData("text/uri-list", "file:///work/project/src/app.py\r\nfile:///work/project/README.md");
        else data.items.add(new File(["hello"], "notes.txt", { type: "text/plain" }));
        input.dispatchEvent(
          new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }),
        );
        input.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
      }, setup);
    await drop("explorer");
    assert.deepEqual(await sent("attachUris"), [
      { type: "attachUris", uris: ["file:///work/project/src/app.py", "file:///work/project/README.md"] },
    ]);
    await drop("desktop");
    await waitFor("the dropped file's data", async () => (await sent("attachData")).length === 1);
    assert.deepEqual((await sent("attachData"))[0], {
      type: "attachData",
      name: "notes.txt",
      mimeType: "text/plain",
      data: Buffer.from("hello").toString("base64"),
    });
  });

  test("# offers the host's file matches; arrows and Enter attach one and take the #word out of the message", async () => {
    await send({ type: "snapshot", state: state() });
    const input = ctx.page.locator("#input");
    await input.click();
    await input.pressSequentially("Explain #ap");
    await waitFor("a search for ap", async () => (await sent("searchFiles")).some((m) => m.query === "ap"));
    const files = [
      { path: "src/app.py", name: "app.py" },
      { path: "tests/test_app.py", name: "test_app.py" },
    ];
    await send({ type: "files", query: "ap", files });
    const list = ctx.page.locator("#mentions");
    await list.waitFor({ state: "visible" });
    assert.equal(await list.locator(".mention").count(), 2);
    await screenshot(ctx.page, "webview-mentions");
    await input.press("ArrowDown");
    assert.match(await list.locator(".mention.active").innerText(), /test_app\.py/);
    await input.press("Enter");
    assert.deepEqual(await sent("attachPath"), [{ type: "attachPath", path: "tests/test_app.py" }]);
    assert.equal(await input.inputValue(), "Explain ");
    assert.equal((await sent("send")).length, 0, "Enter picked the file; nothing was sent");
    await list.waitFor({ state: "hidden" });
  });

  test("code blocks have no band behind each line under VS Code's default styles, and long lines scroll inside the block", async () => {
    const long = `result = compute(${Array.from({ length: 30 }, (_, i) => `argument_${i}`).join(", ")})`;
    const entries = [
      { id: "m1", role: "model", text: `Here:\n\n\`\`\`python\n${long}\nprint(result)\n\`\`\`\n`, usage },
    ];
    await ctx.page.setViewportSize({ width: 320, height: 480 });
    await send({ type: "snapshot", state: state({ entries }) });
    const pre = entry("m1").locator(".code-block pre");
    await pre.waitFor();
    const look = await pre.evaluate((p) => {
      const code = p.querySelector("code");
      const log = document.getElementById("log");
      return {
        codeBackground: getComputedStyle(code).backgroundColor,
        codePadding: getComputedStyle(code).padding,
        scrollable: p.scrollWidth > p.clientWidth,
        overflowX: getComputedStyle(p).overflowX,
        blockRight: p.closest(".code-block").getBoundingClientRect().right,
        logRight: log.getBoundingClientRect().right,
        pageScrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth,
      };
    });
    assert.equal(look.codeBackground, "rgba(0, 0, 0, 0)", "no background behind the lines");
    assert.equal(look.codePadding, "0px");
    assert.ok(look.scrollable, "the long line scrolls");
    assert.equal(look.overflowX, "auto");
    assert.ok(look.blockRight <= look.logRight, `the block ends inside the view: ${JSON.stringify(look)}`);
    assert.equal(look.pageScrolls, false, "the page itself does not scroll sideways");
    await pre.evaluate((p) => {
      p.scrollLeft = 200;
    });
    await screenshot(ctx.page, "webview-long-code");
  });

  test("the model picker lists chat models and All models…, which asks the host for every model", async () => {
    await send({ type: "snapshot", state: state({ moreModels: true }) });
    const labels = await ctx.page.locator("#model option").allInnerTexts();
    assert.deepEqual(labels, ["Gemini 2.5 Flash", "Gemini 2.5 Pro", "All models…"]);
    await ctx.page.locator("#model").selectOption({ label: "All models…" });
    assert.equal((await sent("allModels")).length, 1);
    assert.equal((await sent("selectModel")).length, 0);
    assert.equal(
      await ctx.page.locator("#model").inputValue(),
      "gemini-2.5-flash",
      "the picker stays on the model in use",
    );
  });

  test("the draft is told to the host once typing pauses (not per key); the context meter counts on a click", async () => {
    await send({ type: "snapshot", state: state({ context: { used: 1200, limit: 1048576 } }) });
    await ctx.page.locator("#input").pressSequentially("How big is this?");
    assert.equal((await sent("draft")).length, 0, "nothing told while typing");
    await waitFor("the draft after the pause", async () => (await sent("draft")).length === 1, 5000);
    assert.deepEqual((await sent("draft"))[0], { type: "draft", text: "How big is this?" });
    await ctx.page.locator("#context-use").click();
    assert.equal((await sent("countTokens")).length, 1);
    const header = { ...state(), context: { used: 1320, limit: 1048576, counted: true } };
    delete header.entries;
    await send({ type: "header", header });
    await waitFor(
      "the counted value",
      async () => (await ctx.page.locator("#context-use").innerText()) === "1.3k / 1M",
    );
    assert.match(await ctx.page.locator("#context-use").getAttribute("title"), /with your draft/);
  });
});
