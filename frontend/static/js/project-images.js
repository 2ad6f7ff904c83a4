// The project page's image grid: per-image status (segments, labelled, who is on it) and a
// filter by name and by progress, both applied by the server.
import { api } from "./api.js";
import { $, el, meter } from "./dom.js";

function figure(projectId, image, holder) {
  const status = image.segment_count
    ? meter(image.labelled_count, image.segment_count)
    : el("span", { class: "muted", text: "no segments yet" });
  return el(
    "a",
    {
      class: "thumb",
      href: `/projects/${projectId}/annotate?image=${image.id}`,
      "data-image-id": image.id,
      "data-segments": image.segment_count,
      "data-labelled": image.labelled_count,
    },
    el("img", {
      src: `/api/images/${image.id}/thumbnail?size=256`,
      alt: image.filename,
      loading: "lazy",
    }),
    el("span", {
      class: "caption",
      text: `${image.filename} (${image.width}×${image.height})`,
      title: image.filename,
    }),
    el("span", { class: "image-status" }, status),
    holder ? el("span", { class: "presence-user", text: `${holder} is on it` }) : null,
  );
}

export function createImageGrid(projectId) {
  const search = $("#image-search");
  const progress = $("#image-progress");

  async function refresh() {
    const params = new URLSearchParams({ limit: "1000" });
    if (search.value.trim()) params.set("name", search.value.trim());
    if (progress.value) params.set("progress", progress.value);
    const [{ items, total }, presence] = await Promise.all([
      api(`/api/projects/${projectId}/images?${params}`),
      api(`/api/projects/${projectId}/presence`),
    ]);
    const figures = items.map((image) => figure(projectId, image, presence.locks[image.id]));
    if (total > items.length)
      figures.push(el("p", { class: "muted", text: `… and ${total - items.length} more` }));
    $("#images").replaceChildren(...figures);
    const filtered = params.has("name") || params.has("progress");
    $("#image-count").textContent = filtered ? `${total} matching` : `${total} images`;
    document.body.dataset.imagesShown = String(items.length);
  }
  return { refresh, search, progress };
}
