// Live label changes from every session of the project: its server-sent event stream
// (app/live/stream.py), one `labels` event per committed audit batch.

/** Call onChange(batch) per label batch, onChange(null) when told to reload; returns stop(). */
export function onLabelChanges(projectId, onChange) {
  const source = new EventSource(`/api/projects/${projectId}/events`);
  source.addEventListener("labels", (event) => onChange(JSON.parse(event.data)));
  source.addEventListener("reset", () => onChange(null));
  return () => source.close();
}
