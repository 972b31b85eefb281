// The host's pure logic for pictures, costs, rate limits, the live conversation's ids, and
// finding or installing the server, without VS Code.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const image = require("../out/imageAsk.js");
const text = require("../out/usageText.js");
const { replacesShown, sameFolder } = require("../out/live.js");
const where = require("../out/serverLocation.js");
const { planInstall } = require("../out/serverInstall.js");
const { ContextMeter, measureHistory } = require("../out/contextMeter.js");
const { isChatResult } = require("../out/historyEntries.js");

describe("/image", () => {
  test("options lead, in either spelling, then the prompt; `--` ends the options", () => {
    assert.deepEqual(image.parseImageCommand("/image -n 2 --aspect 16:9 a lighthouse at dusk"), {
      prompt: "a lighthouse at dusk",
      numberOfImages: 2,
      aspectRatio: "16:9",
    });
    assert.deepEqual(image.parseImageCommand("/image --count=3 -m imagen-4.0-fast-generate-001 a cat"), {
      prompt: "a cat",
      numberOfImages: 3,
      model: "imagen-4.0-fast-generate-001",
    });
    assert.deepEqual(image.parseImageCommand("/image -- -n is part of it"), { prompt: "-n is part of it" });
    assert.deepEqual(image.parseImageCommand("  /image   a\nmultiline prompt"), {
      prompt: "a\nmultiline prompt",
    });
  });

  test("a count, ratio or option Imagen does not take, or no prompt, is an error with the usage", () => {
    for (const [typed, words] of [
      ["/image -n 5 a cat", /1 to 4 images, not “5”/],
      ["/image --aspect 2:1 a cat", /--aspect takes 1:1, 3:4, 4:3, 9:16, 16:9, not “2:1”/],
      ["/image --seed 4 a cat", /Unknown option --seed/],
      ["/image", /Say what to draw/],
      ["/image -n 2", /Say what to draw/],
    ]) {
      const parsed = image.parseImageCommand(typed);
      assert.match(parsed.error, words, typed);
      assert.match(parsed.error, /Usage: \/image \[-n 1-4\]/, typed);
    }
    assert.equal(image.isImageCommand("/imagery is a word"), false);
    assert.equal(image.isImageCommand("what does /image do?"), false);
  });

  test("Gemini's image models edit images in a turn; Imagen's and the others do not", () => {
    assert.equal(image.editsImages("gemini-2.5-flash-image"), true);
    assert.equal(image.editsImages("gemini-3-pro-image-preview"), true);
    assert.equal(image.editsImages("imagen-4.0-generate-001"), false);
    assert.equal(image.editsImages("gemini-2.5-flash"), false);
    assert.equal(
      image.imagenLabel({ model: "imagen-4.0-generate-001", numberOfImages: 2, aspectRatio: "16:9" }),
      "Imagen · 2 images · 16:9 · imagen-4.0-generate-001",
    );
  });
});

describe("what a turn cost", () => {
  test("money: two decimals from a cent up, else two significant digits", () => {
    assert.equal(text.money(0.00014125), "$0.00014");
    assert.equal(text.money(0.0021), "$0.0021");
    assert.equal(text.money(0.08), "$0.08");
    assert.equal(text.money(1.5), "$1.50");
    assert.equal(text.money(0), "$0.00");
  });

  test("the usage line: tokens (cached told), Imagen's images, the cost of the reply and of the conversation", () => {
    const usage = {
      promptTokens: 1204,
      replyTokens: 96,
      thoughtsTokens: 40,
      totalTokens: 1340,
      cachedTokens: 800,
    };
    assert.equal(text.usageAmount(usage), "1,204 in (800 cached) · 96 out · 40 thinking tokens");
    assert.equal(text.costText(usage), undefined, "an unpriced model: tokens only");
    const priced = { ...usage, cost: { reply: 0.00014125, conversation: 0.0021, currency: "USD" } };
    assert.equal(text.costText(priced), "$0.00014 reply, $0.0021 conversation");
    const imagen = { promptTokens: 0, replyTokens: 0, thoughtsTokens: 0, totalTokens: 0, images: 2 };
    assert.equal(text.usageAmount(imagen), "2 images");
  });
});

describe("the rate limit last met", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const limit = (over) => ({
    model: "gemini-2.5-flash",
    quota: "minute",
    retryAfterSeconds: 42,
    at: "2026-03-01T11:59:50Z",
    resetsAt: "2026-03-01T12:00:42Z",
    ...over,
  });

  test("per-minute and per-day, held until it lifts, in words", () => {
    assert.equal(text.rateLimitHolds(limit(), now), true);
    assert.equal(text.rateLimitShort(limit(), now), "per-minute quota · lifts in 42 s");
    assert.match(
      text.rateLimitText(limit(), now),
      /^The per-minute quota of gemini-2\.5-flash ran out at \d\d:\d\d:\d\d; it lifts at \d\d:\d\d:\d\d.* \(in 42 s\)\.$/,
    );
    const day = limit({ quota: "day", retryAfterSeconds: null, resetsAt: "2026-03-02T08:00:00Z" });
    assert.match(text.rateLimitShort(day, now), /^daily quota · lifts at \d\d:\d\d/);
    assert.match(
      text.rateLimitText(day, now),
      /^The daily quota of gemini-2\.5-flash ran out .* \(in 20 h\)\.$/,
    );
    const past = limit({ resetsAt: "2026-03-01T11:59:59Z" });
    assert.equal(text.rateLimitHolds(past, now), false);
    assert.match(text.rateLimitText(past, now), /; it lifted at /);
    const unknown = limit({ quota: null, resetsAt: null });
    assert.equal(text.rateLimitHolds(unknown, now), false);
    assert.match(
      text.rateLimitText(unknown, now),
      /^gemini-2\.5-flash was rate limited at .*did not say when/,
    );
  });
});

describe("which conversation a change is about", () => {
  test("the shown one archived or deleted, or another opened, replaces it; this window's own change does not", () => {
    assert.equal(replacesShown("reset", "7", "7"), true, "another editor's New Chat");
    assert.equal(replacesShown("reset", "7", undefined), false, "this window's New Chat already cleared");
    assert.equal(replacesShown("reset", "7", "9"), false, "already showing the next one");
    assert.equal(replacesShown("deleted", "3", "7"), false, "an archived conversation deleted elsewhere");
    assert.equal(replacesShown("deleted", "7", "7"), true);
    assert.equal(replacesShown("open", "3", "7"), true, "another editor opened one");
    assert.equal(replacesShown("open", "3", "3"), false, "opened here: shown already");
    assert.equal(replacesShown("turn", "7", "7"), false);
    assert.equal(replacesShown("compacted", "8", "7"), false);
  });

  test("a change is about the shown folder whatever its encoding or trailing slash, but not in another case", () => {
    assert.equal(sameFolder("file:///home/u/my%20proj", "file:///home/u/my proj/"), true);
    assert.equal(sameFolder("file:///c%3A/src", "file:///c:/src"), true);
    assert.equal(
      sameFolder("file:///home/u/Proj", "file:///home/u/proj"),
      false,
      "the daemon's keys are case-sensitive",
    );
    assert.equal(sameFolder("file:///home/u/proj", undefined), false);
  });
});

/** A folder with executable stand-ins named `names`. */
function toolsDir(...names) {
  const dir = mkdtempSync(join(tmpdir(), "gemini-tools-"));
  for (const name of names) {
    writeFileSync(join(dir, name), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe("finding and installing the server", () => {
  const home = mkdtempSync(join(tmpdir(), "gemini-home-"));
  const venv = join(home, "venv");

  test("the setting wins when set; else PATH, the private venv, uv's bin folder, in that order", async () => {
    const onPath = toolsDir("gemini-chat-server");
    const uvBin = toolsDir("gemini-chat-server");
    const env = { PATH: onPath, HOME: home, UV_TOOL_BIN_DIR: uvBin };
    assert.equal(
      await where.locateServer("/no/such/server", env, venv),
      undefined,
      "a set path is used alone",
    );
    assert.deepEqual(await where.locateServer(join(uvBin, "gemini-chat-server"), env, venv), {
      path: join(uvBin, "gemini-chat-server"),
      how: "setting",
    });
    assert.deepEqual(await where.locateServer(undefined, env, venv), {
      path: join(onPath, "gemini-chat-server"),
      how: "path",
    });
    mkdirSync(join(venv, "bin"), { recursive: true });
    writeFileSync(join(venv, "bin", "gemini-chat-server"), "#!/bin/sh\n");
    chmodSync(join(venv, "bin", "gemini-chat-server"), 0o755);
    const off = { ...env, PATH: toolsDir() };
    assert.equal(
      (await where.locateServer(undefined, off, venv)).path,
      join(venv, "bin", "gemini-chat-server"),
    );
    assert.deepEqual(await where.locateServer(undefined, off, join(home, "none")), {
      path: join(uvBin, "gemini-chat-server"),
      how: "installed",
    });
    assert.equal(
      await where.locateServer(undefined, { PATH: toolsDir(), HOME: home }, join(home, "none")),
      undefined,
    );
  });

  test("the install: uv tool install, else pipx, else a venv with Python 3.11+, else what to do", () => {
    const wheel = "/ext/wheel/gemini_chat-0.1.0-py3-none-any.whl";
    const uv = toolsDir("uv", "pipx", "python3");
    assert.deepEqual(planInstall({ PATH: uv, HOME: home }, wheel, venv), {
      way: "uv tool install",
      steps: [{ argv: [join(uv, "uv"), "tool", "install", "--force", wheel] }],
    });
    const pipx = toolsDir("pipx", "python3");
    assert.deepEqual(planInstall({ PATH: pipx, HOME: home }, wheel, venv).steps, [
      { argv: [join(pipx, "pipx"), "install", "--force", wheel] },
    ]);
    const python = toolsDir("python3");
    const plan = planInstall({ PATH: python, HOME: home }, wheel, venv);
    assert.equal(plan.way, "a private venv");
    assert.deepEqual(
      plan.steps.map((s) => s.argv),
      [
        [join(python, "python3"), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
        [join(python, "python3"), "-m", "venv", "--clear", venv],
        [
          join(venv, "bin", "python"),
          "-m",
          "pip",
          "install",
          "--upgrade",
          "--disable-pip-version-check",
          wheel,
        ],
      ],
    );
    assert.match(
      planInstall({ PATH: toolsDir(), HOME: home }, wheel, venv).error,
      /Neither uv, pipx nor Python 3/,
    );
  });
});

describe("the context meter", () => {
  const usage = (promptTokens, replyTokens) => ({
    promptTokens,
    replyTokens,
    thoughtsTokens: 0,
    totalTokens: 0,
  });
  const imagen = (images) => ({ promptTokens: 0, replyTokens: 0, thoughtsTokens: 0, totalTokens: 0, images });
  const chat = (u) => [
    { role: "user", text: "q" },
    { role: "model", text: "a", usage: u },
  ];
  const image = (n) => [
    { role: "user", text: "a lighthouse", imagen: { model: "imagen-4.0-generate-001", numberOfImages: n } },
    { role: "model", text: "", usage: imagen(n) },
  ];

  test("history: the last chat reply's prompt plus reply; Imagen's exchanges after it add images, not tokens", () => {
    assert.deepEqual(measureHistory([]), { used: 0, imagesSince: 0 }, "an empty conversation");
    assert.deepEqual(measureHistory([...chat(usage(100, 20)), ...chat(usage(300, 24))]), {
      used: 324,
      imagesSince: 0,
    });
    assert.deepEqual(measureHistory([...chat(usage(300, 24)), ...image(2), ...image(1)]), {
      used: 324,
      imagesSince: 3,
    });
    assert.deepEqual(measureHistory([...image(2), ...chat(usage(900, 10))]), { used: 910, imagesSince: 0 });
    assert.deepEqual(
      measureHistory(image(1)),
      { used: 0, imagesSince: 1 },
      "images alone: 0 tokens plus them",
    );
  });

  test("history: a model turn without usage (a compaction's summary) after the last chat reply leaves it unknown", () => {
    const summary = [
      { role: "user", text: "Summary of 3 earlier exchanges", compacted: 3 },
      { role: "model", text: "The summary." },
    ];
    assert.equal(measureHistory([...summary, ...image(1)]), undefined);
    assert.deepEqual(measureHistory([...summary, ...chat(usage(50, 5)), ...image(1)]), {
      used: 55,
      imagesSince: 1,
    });
  });

  test("Imagen's result, which carries an empty text and thoughts too, is not taken for a chat reply (its model is not the folder's)", () => {
    const images = [{ mimeType: "image/png", path: "/data/images/a.png" }];
    const drawn = {
      workspace: "file:///p",
      turn: 2,
      model: "imagen-4.0-generate-001",
      text: "",
      thoughts: "",
      images,
    };
    assert.equal(isChatResult({ ...drawn, usage: imagen(1) }), false);
    const replied = { workspace: "file:///p", turn: 1, model: "gemini-2.5-flash", text: "Hi", thoughts: "" };
    assert.equal(isChatResult({ ...replied, finishReason: "STOP", usage: usage(3, 1) }), true);
  });

  test("this window's turns: a chat reply measures, an image reply keeps the number and adds its images", () => {
    let limit = 1000;
    let changes = 0;
    const meter = new ContextMeter(
      () => limit,
      () => changes++,
    );
    assert.equal(meter.value, undefined, "nothing known before the history is read");
    meter.replied(imagen(2));
    assert.equal(meter.value, undefined, "images on an unknown size: still unknown");
    meter.measured(measureHistory(chat(usage(300, 24))));
    assert.deepEqual(meter.value, { used: 324, limit: 1000 });
    meter.replied(imagen(2));
    meter.replied(imagen(1));
    assert.deepEqual(meter.value, { used: 324, limit: 1000, imagesSince: 3 });
    meter.replied(usage(2000, 30));
    assert.deepEqual(meter.value, { used: 2030, limit: 1000 }, "the next chat reply counted the images");
    meter.clear();
    assert.equal(meter.value, undefined, "another conversation: unknown until read");
    meter.measured(measureHistory([]));
    assert.deepEqual(meter.value, { used: 0, limit: 1000 }, "New Chat: empty");
    limit = undefined;
    assert.equal(meter.value, undefined, "no limit known (an Imagen model has none): not shown");
    assert.ok(changes >= 5);
    meter.dispose();
  });
});
