import { api, el } from "./api.js";

const root = document.getElementById("project");
const projectId = Number(root.dataset.projectId);
const grid = document.getElementById("images");
const progressList = document.getElementById("upload-progress");
const errorList = document.getElementById("upload-errors");

async function refreshProject() {
  const p = await api(`/api/projects/${projectId}`);
  document.getElementById("project-name").textContent = p.name;
  document.title = `${p.name} · lassolabel`;
  document.getElementById("project-stats").textContent =
    `${p.image_count} images · ${p.segment_count} segments · ${p.labelled_count} labelled`;
}

async function refreshImages() {
  const { items } = await api(`/api/projects/${projectId}/images?limit=1000`);
  grid.replaceChildren(
    ...items.map((image) =>
      el("figure", { "data-image-id": String(image.id) },
        el("img", { src: `/api/images/${image.id}/thumbnail?size=256`, alt: image.filename, loading: "lazy" }),
        el("figcaption", { text: `${image.filename} (${image.width}×${image.height})`, title: image.filename }),
      ),
    ),
  );
}

async function refreshLabels() {
  const { items } = await api(`/api/projects/${projectId}/labels`);
  document.getElementById("labels").replaceChildren(
    ...items.map((label) =>
      el("li", {},
        el("span", { class: "swatch", style: `background:${label.color}` }),
        el("span", { class: "label-name", text: label.name }),
        el("span", { class: "muted", text: label.hotkey ? `[${label.hotkey}]` : "" }),
      ),
    ),
  );
}

// One request per file, so each file has its own progress bar and its own error.
function uploadOne(file) {
  const bar = el("progress", { max: "100", value: "0" });
  const row = el("li", {}, el("span", { text: `${file.name} ` }), bar);
  progressList.append(row);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/projects/${projectId}/images`);
    xhr.upload.onprogress = (e) => e.lengthComputable && (bar.value = (100 * e.loaded) / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status !== 200) {
        errorList.append(el("li", { text: `${file.name}: ${data?.error?.message ?? xhr.statusText}` }));
      } else {
        for (const e of data.errors) errorList.append(el("li", { text: `${e.filename}: ${e.error}` }));
      }
      row.remove();
      resolve();
    };
    xhr.onerror = () => {
      errorList.append(el("li", { text: `${file.name}: network error` }));
      row.remove();
      resolve();
    };
    const form = new FormData();
    form.append("files", file);
    xhr.send(form);
  });
}

async function uploadAll(files) {
  errorList.replaceChildren();
  const queue = [...files];
  const workers = Array.from({ length: 3 }, async () => {
    while (queue.length) await uploadOne(queue.shift());
  });
  await Promise.all(workers);
  await Promise.all([refreshImages(), refreshProject()]);
}

const dropzone = document.getElementById("dropzone");
dropzone.addEventListener("dragover", (e) => { e.preventDefault(); dropzone.classList.add("over"); });
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (e) => {
  e.preventDefault();
  dropzone.classList.remove("over");
  uploadAll(e.dataTransfer.files);
});
document.getElementById("file-input").addEventListener("change", (e) => uploadAll(e.target.files));

function bindForm(id, errorId, submit) {
  const form = document.getElementById(id);
  const errorBox = document.getElementById(errorId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try {
      await submit(form);
      form.reset();
    } catch (err) {
      errorBox.textContent = err.message;
    }
  });
}

bindForm("create-label", "label-error", async (form) => {
  await api(`/api/projects/${projectId}/labels`, {
    method: "POST", json: { name: form.name.value, color: form.color.value },
  });
  await refreshLabels();
});

bindForm("folder-import", "folder-error", async (form) => {
  const result = await api(`/api/projects/${projectId}/images/import-folder`, {
    method: "POST", json: { path: form.path.value },
  });
  if (result.job_id) document.getElementById("status").textContent = `import job ${result.job_id} started`;
  for (const e of result.report?.errors ?? []) errorList.append(el("li", { text: `${e.filename}: ${e.error}` }));
  await Promise.all([refreshImages(), refreshProject()]);
});

Promise.all([refreshProject(), refreshLabels(), refreshImages()]).catch((err) => {
  document.getElementById("status").textContent = err.message;
});
