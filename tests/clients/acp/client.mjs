// Drives `gemini-chat-server --acp` with the official TypeScript SDK's ClientSideConnection,
// which validates every session/update against the ACP v1 schema (zod) before handing it on.
// Usage: node client.mjs WORKSPACE FILE -- AGENT_COMMAND [ARGS...]
// Prints one JSON line: per phase, the session/update lines the agent wrote and the ones that
// passed validation, their kinds and the stop reason. The pytest side asserts on it.
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import * as acp from "@agentclientprotocol/sdk";

const [workspace, file, sep, command, ...args] = process.argv.slice(2);
if (sep !== "--" || !command) {
  console.error("usage: node client.mjs WORKSPACE FILE -- AGENT_COMMAND [ARGS...]");
  process.exit(2);
}

function start() {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  const [forSdk, forCount] = Readable.toWeb(child.stdout).tee();
  const seen = { raw: 0, valid: 0, kinds: [], reads: [] };
  countLines(forCount, (message) => {
    if (message.method === "session/update") seen.raw += 1;
  });
  const client = {
    async sessionUpdate(params) {
      seen.valid += 1;
      seen.kinds.push(params.update.sessionUpdate);
    },
    async requestPermission() {
      throw new Error("a read-only agent asked for permission");
    },
    async readTextFile(params) {
      seen.reads.push(params.path);
      return { content: "// the unsaved buffer\nexport const answer = 42;\n" };
    },
  };
  const stream = acp.ndJsonStream(Writable.toWeb(child.stdin), forSdk);
  const conn = new acp.ClientSideConnection(() => client, stream);
  return { child, conn, seen };
}

async function countLines(stream, onMessage) {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf("\n");
    while (end >= 0) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line) onMessage(JSON.parse(line));
      end = buffered.indexOf("\n");
    }
  }
}

async function stop(agent) {
  agent.child.stdin.end();
  await new Promise((resolve) => agent.child.on("exit", resolve));
}

const init = {
  protocolVersion: acp.PROTOCOL_VERSION,
  clientCapabilities: { fs: { readTextFile: true, writeTextFile: false } },
  clientInfo: { name: "acp-sdk-node-test", version: "1" },
};

const first = start();
const initialized = await first.conn.initialize(init);
const session = await first.conn.newSession({ cwd: workspace, mcpServers: [] });
const link = { type: "resource_link", name: "main.ts", uri: pathToFileURL(file).href };
const answer = await first.conn.prompt({
  sessionId: session.sessionId,
  prompt: [{ type: "text", text: "What does main.ts export?" }, link],
});
const listed = await first.conn.listSessions({ cwd: workspace });
await stop(first);

const second = start();
await second.conn.initialize(init);
await second.conn.loadSession({ cwd: workspace, sessionId: session.sessionId, mcpServers: [] });
await stop(second);

console.log(
  JSON.stringify({
    protocolVersion: initialized.protocolVersion,
    sessionId: session.sessionId,
    stopReason: answer.stopReason,
    listed: listed.sessions.map((s) => s.sessionId),
    prompt: first.seen,
    load: second.seen,
  }),
);
