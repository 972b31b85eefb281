/** Model text to safe HTML: markdown-it (raw HTML off), highlight.js, then DOMPurify. */

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";
import MarkdownIt from "markdown-it";

function highlight(code: string, lang: string): string {
  try {
    if (lang !== "" && hljs.getLanguage(lang) !== undefined) {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    }
    // Guessing is costly on big blocks; plain text is fine there.
    if (code.length < 5000) return hljs.highlightAuto(code).value;
  } catch {
    // A highlighter bug must not lose the reply: fall back to escaped text.
  }
  return "";
}

const md = new MarkdownIt({
  // Raw HTML in model output is shown as text, never parsed.
  html: false,
  linkify: true,
  breaks: false,
  highlight,
});

const purifyConfig = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style"],
};

/** Render Markdown to sanitized HTML, safe to assign to innerHTML. */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(text), purifyConfig);
}
