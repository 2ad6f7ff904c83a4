// Export (format, only labelled or all, download progress) and annotation import (per-file
// errors) on the project page.
import { api, errorFrom } from "./api.js";
import { $, el, guarded } from "./dom.js";

const mb = (bytes) => (bytes / 1048576).toFixed(1);

/** The response body as a Blob, calling onProgress(received, total) as chunks arrive. */
async function readWithProgress(response, onProgress) {
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  return new Blob(chunks, { type: response.headers.get("content-type") ?? "" });
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  el("a", { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function installExport(projectId) {
  const form = $("#export-form");
  const box = $("#export-progress");
  const show = (...nodes) => box.replaceChildren(...nodes);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    delete box.dataset.done;
    guarded($("#export-error"), async () => {
      const params = new URLSearchParams({
        format: form.format.value,
        include_unlabelled: String(form.scope.value === "all"),
        include_images: String(form.images.checked),
      });
      show(el("span", { class: "spinner" }), " preparing the export…");
      const response = await fetch(`/api/projects/${projectId}/export?${params}`);
      if (!response.ok) throw await errorFrom(response);
      const bar = el("progress", { max: "1", value: "0" });
      const text = el("span", { class: "meter-text" });
      show(el("span", { class: "meter" }, bar, text));
      const blob = await readWithProgress(response, (done, total) => {
        bar.max = String(total || done);
        bar.value = String(done);
        text.textContent = `${mb(done)} / ${mb(total || done)} MB`;
      });
      const name =
        /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ??
        "export.zip";
      save(blob, name);
      show(`Downloaded ${name} (${mb(blob.size)} MB)`);
      box.dataset.done = name;
    }).finally(() => {
      button.disabled = false;
      if (!box.dataset.done) show();
    });
  });
}

function report(result) {
  const what = result.target === "ground-truth" ? "ground truth" : "working labels";
  const problems = result.skipped.map((s) => el("li", { text: `${s.item}: ${s.reason}` }));
  return [
    el("p", {
      text: `${result.imported} segment(s) on ${result.images} image(s) imported as ${what}; ${result.skipped.length} problem(s).`,
    }),
    problems.length ? el("ul", { class: "errors", id: "import-problems" }, ...problems) : null,
  ].filter(Boolean);
}

export function installImport(projectId, onDone) {
  const form = $("#import-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded($("#import-error"), async () => {
      $("#import-report").replaceChildren();
      const body = new FormData();
      body.append("file", form.file.files[0]);
      const params = new URLSearchParams({ format: form.format.value, target: form.target.value });
      const result = await api(`/api/projects/${projectId}/import?${params}`, {
        method: "POST",
        body,
      });
      $("#import-report").replaceChildren(...report(result));
      await onDone();
    });
  });
}
