// The strip of image thumbnails under the annotator; click one to open it.
import { el } from "./dom.js";

export function createFilmstrip(container, onOpen) {
  return {
    render(images, currentIndex) {
      container.replaceChildren(...images.map((image, i) =>
        el("img", {
          src: `/api/images/${image.id}/thumbnail?size=128`, alt: image.filename, title: image.filename,
          loading: "lazy", class: i === currentIndex ? "current" : "", "data-image-id": image.id,
          onclick: () => onOpen(i),
        })));
      container.children[currentIndex]?.scrollIntoView({ block: "nearest", inline: "center" });
    },
  };
}
