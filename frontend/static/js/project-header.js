// The project's name and overall progress (labelled / total segments) in the top bar.
import { api } from "./api.js";

export const projectId = Number(document.body.dataset.projectId);

export function setStatus(text) {
  document.getElementById("status").textContent = text;
}

export async function refreshHeader() {
  const project = await api(`/api/projects/${projectId}`);
  document.getElementById("project-title").textContent = project.name;
  document.getElementById("project-progress").textContent =
    `${project.labelled_count} / ${project.segment_count} labelled`;
  document.title = `${project.name} · lassolabel`;
  return project;
}
