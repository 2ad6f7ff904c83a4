// DOM helpers. Text is always set with textContent: names are never parsed as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Show a readable message in `box` (an element with role=alert); empty message hides it.
export function showError(box, err) {
  box.textContent = err ? (err.message ?? String(err)) : "";
  box.hidden = !err;
}

// Run an async UI action and report its failure next to where the user acted.
export async function guarded(box, action) {
  showError(box, null);
  try {
    return await action();
  } catch (err) {
    showError(box, err);
    return undefined;
  }
}

export function percent(done, total) {
  return total > 0 ? Math.round((100 * done) / total) : 0;
}

// A labelled progress bar: <div class=meter><progress/><span>3 / 10</span></div>.
export function meter(done, total, caption = "") {
  const bar = el("progress", { max: String(Math.max(total, 1)), value: String(done) });
  const text = el("span", { class: "meter-text", text: `${caption}${done} / ${total}` });
  return el("div", { class: "meter" }, bar, text);
}
