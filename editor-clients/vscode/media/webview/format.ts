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
