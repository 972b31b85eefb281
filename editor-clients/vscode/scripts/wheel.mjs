// Builds the daemon's wheel (`uv build --wheel` of the repository) into wheel/, which the .vsix
// carries: the extension installs the server from it when gemini-chat-server is not found.
// uv comes from scripts/ensure-uv.sh, which installs it from PyPI on a machine without one.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(root, "..", "..");
const out = join(root, "wheel");
// Only this build's wheel: an older version left here would ship too.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const uv = execFileSync(join(repo, "scripts", "ensure-uv.sh"), { encoding: "utf8" }).trim();
execFileSync(uv, ["build", "--wheel", "--quiet", "--out-dir", out, repo], {
  stdio: ["ignore", "inherit", "inherit"],
});
const wheels = readdirSync(out).filter((f) => f.endsWith(".whl"));
if (wheels.length !== 1)
  throw new Error(`expected one wheel in ${out}, found: ${wheels.join(", ") || "none"}`);
console.log(`wheel/${wheels[0]}`);
