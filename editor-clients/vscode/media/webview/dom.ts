/** Small DOM builders for the webview; text goes in as textContent, never as HTML. */

/** An element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A decorative codicon. */
export function icon(name: string): HTMLElement {
  const span = el("span", `codicon codicon-${name}`);
  span.setAttribute("aria-hidden", "true");
  return span;
}

/** A borderless button with an icon and a label. */
export function iconButton(name: string, label: string, onClick: () => void): HTMLButtonElement {
  const button = el("button", "text-button");
  button.type = "button";
  button.title = label;
  button.append(icon(name), el("span", undefined, label));
  button.addEventListener("click", onClick);
  return button;
}
