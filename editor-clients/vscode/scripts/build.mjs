// Bundles the extension (Node, CommonJS) and the webview script (browser), copies the codicons,
// and builds the pure modules the Node tests import into out/.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const production = process.argv.includes("--production");
// A clean dist/ so stale source maps never end up in the .vsix.
rmSync(join(root, "dist"), { recursive: true, force: true });
const common = { bundle: true, logLevel: "warning", sourcemap: !production, minify: production };

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [join(root, "src/extension.ts")],
    outfile: join(root, "dist/extension.js"),
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
  }),
  esbuild.build({
    ...common,
    entryPoints: [join(root, "media/webview/main.ts")],
    outfile: join(root, "dist/webview.js"),
    platform: "browser",
    format: "iife",
    target: "chrome114",
  }),
  esbuild.build({
    bundle: true,
    logLevel: "warning",
    entryPoints: [
      "api",
      "webviewHtml",
      "codeEdit",
      "imageAsk",
      "usageText",
      "contextMeter",
      "historyEntries",
      "live",
      "serverLocation",
      "serverInstall",
    ].map((name) => join(root, `src/${name}.ts`)),
    outdir: join(root, "out"),
    platform: "node",
    format: "cjs",
    target: "node18",
  }),
]);

const codicons = join(root, "node_modules/@vscode/codicons/dist");
mkdirSync(join(root, "dist/codicons"), { recursive: true });
for (const file of ["codicon.css", "codicon.ttf"]) {
  cpSync(join(codicons, file), join(root, "dist/codicons", file));
}
