// The card shown over a hovered map point: the segment's masked thumbnail, its image's name and
// an optional note (e.g. its suggested label).
import { api } from "./api.js";
import { el } from "./dom.js";

export function createHoverCard(card, { thumbnailUrl, describe, note = () => null }) {
  let token = 0;
  return {
    async show(segmentId, [x, y]) {
      const mine = ++token;
      card.style.left = `${x + 12}px`;
      card.style.top = `${y + 12}px`;
      const name = el("div", { class: "caption", text: `segment ${segmentId}` });
      const extra = note(segmentId);
      card.replaceChildren(
        thumbnailUrl ? el("img", { src: thumbnailUrl(segmentId), alt: "" }) : "",
        name,
        extra ? el("div", { class: "caption hover-note", text: extra }) : "",
      );
      card.hidden = false;
      const text = await describe(segmentId).catch(() => null);
      if (mine === token && text) name.textContent = text;
    },
    hide() {
      token++;
      card.hidden = true;
    },
  };
}

/** describe(segmentId) -> "image.png · 1234 px" via GET /api/segments/{id}, cached. */
export function segmentDescriber() {
  const cache = new Map();
  const images = new Map();
  return async (segmentId) => {
    if (!cache.has(segmentId)) {
      cache.set(
        segmentId,
        (async () => {
          const segment = await api(`/api/segments/${segmentId}`);
          if (!images.has(segment.image_id))
            images.set(segment.image_id, api(`/api/images/${segment.image_id}`));
          const image = await images.get(segment.image_id);
          return `${image.filename} · ${segment.area} px · ${segment.source}`;
        })(),
      );
    }
    return cache.get(segmentId);
  };
}
