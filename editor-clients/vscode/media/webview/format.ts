/** Short texts the webview shows: the compaction divider, token counts, tool icons. */

/** The divider's words: "2 earlier exchanges summarised to fit the context window". */
export function compactedLabel(turns: number): string {
  const what = turns === 1 ? "earlier exchange" : "earlier exchanges";
  return `${turns} ${what} summarised to fit the context window`;
}

/** A token count in a few characters: 950, 12k, 1.2M. */
export function shortCount(n: number): string {
  const short = (value: number): string =>
    value < 10 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  if (n < 1000) return String(n);
  if (n < 999_500) return `${short(n / 1000)}k`;
  return `${short(n / 1_000_000)}M`;
}

/** The codicon for a workspace tool the model called. */
export function toolIcon(name: string): string {
  switch (name) {
    case "read_file":
      return "file";
    case "list_files":
      return "list-tree";
    case "search_text":
      return "search";
    default:
      return "tools";
  }
}

/** A file size in a few characters: 812 B, 12 kB, 3.4 MB. */
export function byteSize(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${Math.round(n / 1000)} kB`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** The dim line under a reply: "2 secrets masked before sending (aws-access-key in message, …)". */
export function redactionLine(found: { kind: string; where: string }[]): string {
  const what = found.length === 1 ? "1 secret masked" : `${found.length} secrets masked`;
  const details = found.map((r) => `${r.kind} in ${r.where}`).join(", ");
  return `${what} before sending (${details})`;
}
