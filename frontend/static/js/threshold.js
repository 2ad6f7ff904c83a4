// "Accept all ≥ threshold": a slider and a number kept in step, and a button that says how many
// suggestions it will accept before it is pressed.
const DEBOUNCE_MS = 150;

/** createThreshold({range, number, button, count(value) -> Promise<n>, onAccept(value)}). */
export function createThreshold({ range, number, button, count, onAccept }) {
  let timer = null;
  let asked = 0;
  const value = () => Number(range.value);

  async function refresh() {
    const mine = ++asked;
    const n = await count(value());
    if (mine !== asked) return; // a newer value is being counted
    button.textContent = `Accept ${n} ≥ ${value().toFixed(2)}`;
    button.disabled = n === 0;
    button.dataset.count = String(n);
  }

  function set(raw) {
    const v = Math.min(Math.max(Number(raw) || 0, 0), 1);
    range.value = String(v);
    if (document.activeElement !== number) number.value = String(v);
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => {}), DEBOUNCE_MS);
  }

  range.addEventListener("input", () => set(range.value));
  number.addEventListener("input", () => set(number.value));
  button.addEventListener("click", () => onAccept(value()));
  return { refresh: () => refresh().catch(() => {}), value };
}
