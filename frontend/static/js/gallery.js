// A virtualised grid of segment thumbnails: only the visible rows exist in the DOM.
import { el } from "./dom.js";

const CELL = 78;

/**
 * createGallery(container, {thumbnailUrl(id) | null, onClick(id), onSimilar(id)?}) ->
 * {setItems(ids)}. With onSimilar, each cell has a "more like this" button.
 */
export function createGallery(container, { thumbnailUrl, onClick, onSimilar = null }) {
  let ids = [];
  const spacer = el("div", { style: { position: "relative", width: "100%" } });
  container.append(spacer);

  function cell(id, index, columns) {
    const content = thumbnailUrl
      ? el("img", { src: thumbnailUrl(id), alt: `segment ${id}`, loading: "lazy" })
      : el("span", { text: `#${id}` });
    const similar =
      onSimilar &&
      el("button", {
        type: "button",
        class: "similar-button",
        text: "≈",
        title: "More like this",
        onclick: (event) => {
          event.stopPropagation();
          onSimilar(id);
        },
      });
    return el(
      "div",
      {
        class: "cell",
        "data-segment-id": id,
        title: `segment ${id} (click to remove from the selection)`,
        style: {
          left: `${(index % columns) * CELL}px`,
          top: `${Math.floor(index / columns) * CELL}px`,
        },
        onclick: () => onClick(id),
      },
      content,
      similar,
    );
  }

  function render() {
    const columns = Math.max(1, Math.floor(container.clientWidth / CELL));
    spacer.style.height = `${Math.ceil(ids.length / columns) * CELL}px`;
    const first = Math.max(0, Math.floor(container.scrollTop / CELL) - 1) * columns;
    const last = Math.min(
      ids.length,
      (Math.ceil((container.scrollTop + container.clientHeight) / CELL) + 1) * columns,
    );
    const cells = [];
    for (let i = first; i < last; i++) cells.push(cell(ids[i], i, columns));
    spacer.replaceChildren(...cells);
  }

  container.addEventListener("scroll", () => requestAnimationFrame(render));
  return {
    setItems(newIds) {
      ids = newIds;
      render();
    },
  };
}
