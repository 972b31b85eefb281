/** "Gemini: Install the Server": the daemon from the wheel the extension carries, with progress, then started. */

import * as path from "node:path";
import * as vscode from "vscode";
import type { DaemonClient } from "./client";
import { bundledWheel, type InstallPlan, planInstall, runStep } from "./serverInstall";

/** Progress lines are told at most this often (pip prints a lot). */
const REPORT_MS = 250;

/** What installs the server on this machine, in words ("uv tool install"), or undefined when nothing can. */
export function installWay(extensionDir: string, venv: string): string | undefined {
  const wheel = bundledWheel(extensionDir);
  const plan = wheel === undefined ? undefined : planInstall(process.env, wheel, venv);
  return plan === undefined || "error" in plan ? undefined : plan.way;
}

/**
 * Install the server (uv, else pipx, else a private venv), telling each step and the installer's
 * latest line in a progress notification (its whole output in the Gemini Chat channel), then
 * start it. True when it runs.
 */
export async function installServer(client: DaemonClient): Promise<boolean> {
  const wheel = bundledWheel(client.extensionDir);
  if (wheel === undefined) {
    void vscode.window.showErrorMessage(
      "This build of the extension carries no server to install: install gemini-chat-server " +
        "(pipx install gemini-chat, or uv tool install gemini-chat) or set geminiChat.serverPath.",
    );
    return false;
  }
  const plan = planInstall(process.env, wheel, client.venv);
  if ("error" in plan) {
    void vscode.window.showErrorMessage(plan.error);
    return false;
  }
  const output = client.output;
  try {
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: "Installing gemini-chat-server",
        cancellable: true,
      },
      (progress, token) => runPlan(plan, output, progress, token),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    output.appendLine(`[install] ${message}`);
    const choice = await vscode.window.showErrorMessage(
      `Installing gemini-chat-server failed: ${message}`,
      "Show Log",
    );
    if (choice === "Show Log") output.show(true);
    return false;
  }
  await client.restart();
  if (client.state !== "running") return false;
  void vscode.window.showInformationMessage(`Installed gemini-chat-server with ${plan.way}.`);
  return true;
}

async function runPlan(
  plan: InstallPlan,
  output: vscode.OutputChannel,
  progress: vscode.Progress<{ message?: string }>,
  token: vscode.CancellationToken,
): Promise<void> {
  const abort = new AbortController();
  const cancelled = token.onCancellationRequested(() => abort.abort());
  try {
    for (const [i, step] of plan.steps.entries()) {
      const label = `(${i + 1}/${plan.steps.length}, ${plan.way})`;
      output.appendLine(
        `[install] $ ${step.argv.map((a) => (a.includes(" ") ? JSON.stringify(a) : a)).join(" ")}`,
      );
      // Paths by their last part: the whole command is in the log.
      progress.report({ message: `${label} ${step.argv.map((a) => path.basename(a)).join(" ")}` });
      let told = 0;
      const onLine = (line: string): void => {
        output.appendLine(line);
        if (Date.now() - told < REPORT_MS) return;
        told = Date.now();
        progress.report({ message: `${label} ${line.trim()}` });
      };
      try {
        await runStep(step, process.env, onLine, abort.signal);
      } catch (err) {
        throw token.isCancellationRequested ? new Error("cancelled") : err;
      }
    }
  } finally {
    cancelled.dispose();
  }
}
