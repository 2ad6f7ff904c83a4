// Drag-and-drop upload: one request per file, each with its own progress bar and error line.
import { csrfHeaders } from "./api.js";
import { el } from "./dom.js";

const PARALLEL = 3;

function errorText(xhr) {
  try {
    return JSON.parse(xhr.responseText)?.error?.message ?? `${xhr.status} ${xhr.statusText}`;
  } catch {
    return `${xhr.status} ${xhr.statusText || "upload failed"}`;
  }
}

function uploadOne(url, file, progressList, reportError) {
  const bar = el("progress", { max: "100", value: "0" });
  const row = el("li", { class: "upload" }, el("span", { text: file.name }), bar);
  progressList.append(row);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const finish = () => {
      row.remove();
      resolve();
    };
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(csrfHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
    };
    xhr.onload = () => {
      if (xhr.status !== 200) reportError(file.name, errorText(xhr));
      else for (const e of JSON.parse(xhr.responseText).errors) reportError(e.filename, e.error);
      finish();
    };
    xhr.onerror = () => {
      reportError(file.name, "network error");
      finish();
    };
    const form = new FormData();
    form.append("files", file);
    xhr.send(form);
  });
}

/** Wire a drop zone and a file input to upload into a project; `onDone()` after each batch. */
export function installUpload({ projectId, dropzone, input, progressList, errorList, onDone }) {
  const url = `/api/projects/${projectId}/images`;
  const reportError = (name, message) =>
    errorList.append(el("li", { text: `${name}: ${message}` }));

  async function uploadAll(files) {
    errorList.replaceChildren();
    const queue = [...files];
    const worker = async () => {
      while (queue.length) await uploadOne(url, queue.shift(), progressList, reportError);
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    await onDone();
  }

  dropzone.addEventListener("dragover", (e) => {
    e.preventDefault();
    dropzone.classList.add("over");
  });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropzone.classList.remove("over");
    uploadAll(e.dataTransfer.files);
  });
  input.addEventListener("change", () => {
    uploadAll(input.files);
    input.value = "";
  });
  return { uploadAll, reportError };
}
