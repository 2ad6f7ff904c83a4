// The strip of image thumbnails under the annotator; click one to open it. Images other
// people are on are marked (live presence).
import { el } from "./dom.js";

export function createFilmstrip(container, onOpen) {
  let here = new Map(); // image id -> [usernames], everyone but this user
  const listeners = [];

  function mark(img) {
    const people = here.get(Number(img.dataset.imageId));
    img.classList.toggle("others-here", Boolean(people));
    img.title = people ? `${img.alt} · ${people.join(", ")} here` : img.alt;
    if (people) img.dataset.here = people.join(",");
    else delete img.dataset.here;
  }

  return {
    render(images, currentIndex) {
      container.replaceChildren(
        ...images.map((image, i) =>
          el("img", {
            src: `/api/images/${image.id}/thumbnail?size=128`,
            alt: image.filename,
            title: image.filename,
            loading: "lazy",
            class: i === currentIndex ? "current" : "",
            "data-image-id": image.id,
            onclick: () => onOpen(i),
          }),
        ),
      );
      for (const img of container.children) mark(img);
      container.children[currentIndex]?.scrollIntoView({ block: "nearest", inline: "center" });
      for (const listener of listeners) listener(images[currentIndex]);
    },
    /** Mark the images others are on: users [{username, image_id}] (this user left out). */
    markOthers(users) {
      here = new Map();
      for (const { username, image_id: id } of users) {
        if (id !== null) here.set(id, [...(here.get(id) ?? []), username]);
      }
      for (const img of container.children) mark(img);
    },
    /** Call listener(image) whenever the strip shows a new current image. */
    onCurrent(listener) {
      listeners.push(listener);
    },
  };
}
