// "More like this": a segment's nearest neighbours (GET /api/segments/{id}/similar?k=) shown with
// their cosine distances. They become the map selection, so the usual assign applies; clicking
// one takes it out of (or back into) the selection first. Cells follow the selection as it
// changes elsewhere (lasso, the selection gallery).
import { api } from "./api.js";
import { el } from "./dom.js";

/**
 * createSimilarPanel({section, results, k, caption, close, thumbnailUrl, pointOf(segmentId) ->
 * point | undefined, onSelect(points), onError(err)}) -> {open(segmentId), sync(selectedIds)}.
 */
export function createSimilarPanel({
  section,
  results,
  k,
  caption,
  close,
  thumbnailUrl,
  pointOf,
  onSelect,
  onError,
}) {
  let query = null;
  let shownK = null;
  let items = []; // [{segment_id, distance}], the query first
  let included = new Set();

  const onMap = (item) => pointOf(item.segment_id) !== undefined;
  const selection = () =>
    items.filter((i) => included.has(i.segment_id)).map((i) => pointOf(i.segment_id));

  function cell(item) {
    const inside = included.has(item.segment_id);
    const text = item.segment_id === query ? "this one" : item.distance.toFixed(3);
    return el(
      "div",
      {
        class: `similar-cell${inside ? " included" : ""}${onMap(item) ? "" : " offmap"}`,
        "data-segment-id": item.segment_id,
        title: onMap(item)
          ? `segment ${item.segment_id}: click to ${inside ? "leave out of" : "add to"} the selection`
          : "not on the map yet (run Project)",
        onclick: () => toggle(item),
      },
      el("img", {
        src: thumbnailUrl(item.segment_id),
        alt: `segment ${item.segment_id}`,
        loading: "lazy",
      }),
      el("span", { class: "caption", text }),
    );
  }

  function render() {
    results.replaceChildren(...items.map(cell));
  }

  function toggle(item) {
    if (!onMap(item)) return;
    if (included.has(item.segment_id)) included.delete(item.segment_id);
    else included.add(item.segment_id);
    render();
    onSelect(selection());
  }

  async function open(segmentId) {
    const count = Number(k.value) || 50;
    const body = await api(`/api/segments/${segmentId}/similar?k=${count}`);
    query = segmentId;
    shownK = count;
    items = [{ segment_id: segmentId, distance: 0 }, ...body.items];
    included = new Set(items.filter(onMap).map((i) => i.segment_id));
    caption.textContent = `${body.items.length} nearest to segment ${segmentId}`;
    section.hidden = false;
    render();
    onSelect(selection());
  }

  // "change" fires again on blur: only a new k refetches (and resets what was left out).
  k.addEventListener("change", () => {
    if (query !== null && Number(k.value) !== shownK) open(query).catch(onError);
  });
  close.addEventListener("click", () => {
    section.hidden = true;
    query = null;
    items = [];
  });

  return {
    open,
    /** selectedIds: the selection's segment ids (an array; a Set is built only while open). */
    sync(selectedIds) {
      if (query === null) return;
      const selected = new Set(selectedIds);
      included = new Set(items.filter((i) => selected.has(i.segment_id)).map((i) => i.segment_id));
      render();
    },
  };
}
