/** The sidebar's chat WebviewView: HTML with a strict CSP, messages to and from the ChatController. */

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { ChatController } from "./chat";
import type { ViewMessage } from "./messages";
import { webviewHtml } from "./webviewHtml";

export const VIEW_ID = "geminiChat.chatView";

/** Provides the chat view; the controller outlives it (the view is rebuilt when shown again). */
export class ChatViewProvider implements vscode.WebviewViewProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    const dist = vscode.Uri.joinPath(this.extensionUri, "dist");
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    const asUri = (base: vscode.Uri, ...parts: string[]): string =>
      view.webview.asWebviewUri(vscode.Uri.joinPath(base, ...parts)).toString();
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      scriptUri: asUri(dist, "webview.js"),
      styleUri: asUri(media, "chat.css"),
      codiconsUri: asUri(dist, "codicons", "codicon.css"),
      nonce: randomBytes(16).toString("base64"),
    });
    const subscription = view.webview.onDidReceiveMessage((message: ViewMessage) => {
      void this.controller.handle(message);
    });
    this.controller.attach((message) => void view.webview.postMessage(message));
    view.onDidDispose(() => {
      subscription.dispose();
      this.controller.attach(undefined);
    });
  }
}
