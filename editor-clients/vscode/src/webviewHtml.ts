/** The chat webview's HTML: strict CSP with a nonce, only local resources. Free of `vscode`. */

export interface WebviewResources {
  /** The webview's `cspSource` (the origin its local resources are served from). */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
  nonce: string;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** Build the page; model output is never part of it (the script renders it, sanitized). */
export function webviewHtml(r: WebviewResources): string {
  const csp = [
    "default-src 'none'",
    // Reply images arrive as data: URIs the host read from the daemon's files; nothing remote.
    "img-src data:",
    `style-src ${r.cspSource}`,
    `font-src ${r.cspSource}`,
    `script-src 'nonce-${r.nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link href="${escapeAttr(r.codiconsUri)}" rel="stylesheet">
  <link href="${escapeAttr(r.styleUri)}" rel="stylesheet">
  <title>Gemini Chat</title>
</head>
<body>
  <header class="toolbar" role="toolbar" aria-label="Chat options">
    <div class="toolbar-start">
      <button id="workspace" class="workspace" type="button" title="Workspace folder of this conversation">
        <span id="workspace-icon" class="codicon codicon-root-folder" aria-hidden="true"></span><span id="workspace-name"></span>
      </button>
      <span id="context-files" class="context-files" hidden></span>
    </div>
    <div class="toolbar-end">
      <button id="context-use" class="context-use" type="button" hidden></button>
      <label class="model-label" for="model"><span class="codicon codicon-sparkle" aria-hidden="true"></span>
        <select id="model" title="Model"></select>
      </label>
    </div>
  </header>
  <main id="log" class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></main>
  <footer class="composer" id="composer">
    <div id="notice" class="notice" hidden></div>
    <div id="mentions" class="mentions" role="listbox" aria-label="Workspace files" hidden></div>
    <div id="chips" class="composer-chips" hidden>
      <ul id="attachments" class="attachments" aria-label="Attachments"></ul>
      <button id="active-file" class="chip suggest" type="button" hidden></button>
      <button id="json-mode" class="chip json-mode" type="button" title="Replies come as JSON. Click to pick the schema they must match" hidden></button>
    </div>
    <div id="hint" class="hint" hidden></div>
    <div class="input-row">
      <button id="attach" class="icon-button" type="button" title="Attach files of the folder (or drop them here holding Shift, paste an image, type # for a file)" aria-label="Attach files">
        <span class="codicon codicon-attach" aria-hidden="true"></span>
      </button>
      <button id="json-toggle" class="icon-button toggle" type="button" title="Reply as JSON (with a schema from the folder's *.schema.json files)" aria-label="Reply as JSON" aria-pressed="false">
        <span class="codicon codicon-json" aria-hidden="true"></span>
      </button>
      <textarea id="input" rows="1" placeholder="Ask Gemini… (# for a file)" title="Enter to send, Shift+Enter for a new line" aria-label="Message"></textarea>
      <button id="send" class="icon-button primary" type="button" title="Send (Enter)" aria-label="Send">
        <span class="codicon codicon-send" aria-hidden="true"></span>
      </button>
      <button id="stop" class="icon-button stop" type="button" title="Stop (Esc)" aria-label="Stop" hidden>
        <span class="codicon codicon-debug-stop" aria-hidden="true"></span>
      </button>
    </div>
  </footer>
  <script nonce="${escapeAttr(r.nonce)}" src="${escapeAttr(r.scriptUri)}"></script>
</body>
</html>`;
}
