// The team page's tables (users, members, tokens) share one shape: a row names its subject,
// shows a few cells and ends with ghost buttons; every change refreshes the table after it.
import { el, guarded } from "./dom.js";

const ROLES = ["viewer", "annotator", "admin"];

// `act(fn)`: run fn, report its failure in `box`, then redraw the table with `refresh`.
export const refreshingAct = (box, refresh) => (fn) =>
  guarded(box, async () => {
    await fn();
    await refresh();
  });

// <tr data-KEY=name><td>name</td>...cells<td>buttons</td></tr>
export function namedRow(key, name, cells, buttons) {
  const actions = buttons.flatMap((button, i) => (i ? [" ", button] : [button]));
  return el(
    "tr",
    { [`data-${key}`]: name },
    el("td", { text: name }),
    ...cells,
    el("td", {}, ...actions),
  );
}

export function roleCell(value, onchange, label) {
  const options = ROLES.map((r) => el("option", { value: r, text: r, selected: r === value }));
  return el("td", {}, el("select", { "aria-label": label, onchange }, ...options));
}

export function actionButton(text, onclick, attrs = {}) {
  return el("button", { type: "button", class: "ghost", text, onclick, ...attrs });
}
