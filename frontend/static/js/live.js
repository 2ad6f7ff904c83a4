// Live updates from every session of the project: its server-sent event stream
// (app/live/stream.py). EventSource reconnects by itself and resends the last event id it saw,
// so the server replays every label batch committed meanwhile; suggestions and presence come
// as the current state, not as history.

/**
 * openProjectStream(projectId, {onLabels, onPresence, onSuggestions, onReset}) -> {opened, close()}
 *   onLabels({batch_id, kind, username, undo_of, masks, count,
 *             changes: [[segment_id, label_id|null, version]] | null})
 *     once per committed audit batch, oldest first, this session's own batches included;
 *     `changes` is null for a batch bigger than the server lists (read it with
 *     batch-columns.js when the page needs its ids);
 *   onPresence({users: [{username, image_id}], locks: {image_id: username}}) on every change;
 *   onSuggestions({count, latest}) when the project's suggestions changed (also when they
 *     changed while the stream was reconnecting);
 *   onReset() when the server cannot replay what was missed: reload everything.
 * `opened` resolves at the first hello: state read after it misses no batch.
 * document.body.dataset.live says "open" once the server has said hello, "reconnecting" after.
 */
export function openProjectStream(
  projectId,
  { onLabels, onPresence, onSuggestions, onReset } = {},
) {
  const source = new EventSource(`/api/projects/${projectId}/events`);
  let suggestions = null; // the last fingerprint seen, as JSON
  let markOpened;
  const opened = new Promise((resolve) => {
    markOpened = resolve;
  });
  const on = (name, handle) =>
    source.addEventListener(name, (event) => handle(JSON.parse(event.data)));
  const noteSuggestions = (state) => {
    const seen = JSON.stringify(state);
    const changed = suggestions !== null && seen !== suggestions;
    suggestions = seen;
    return changed;
  };
  on("hello", (hello) => {
    if (noteSuggestions(hello.suggestions)) onSuggestions?.(hello.suggestions);
    document.body.dataset.live = "open";
    markOpened();
  });
  on("labels", (batch) => onLabels?.(batch));
  on("presence", (snapshot) => onPresence?.(snapshot));
  on("suggestions", (state) => {
    noteSuggestions(state);
    onSuggestions?.(state);
  });
  on("reset", () => onReset?.());
  source.addEventListener("error", () => {
    document.body.dataset.live = "reconnecting";
  });
  return { opened, close: () => source.close() };
}
