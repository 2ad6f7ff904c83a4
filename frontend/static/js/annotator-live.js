// The annotator's live side: heartbeats naming the image on screen, a warning while someone else
// holds its soft lock (a warning only: versions keep the data right), the filmstrip marking
// where others are, and other sessions' segments appearing, vanishing and changing label.
import { loadLabels } from "./labels.js";
import { openProjectStream } from "./live.js";
import { others, renderWhoIsHere, startPresence, whoAmI } from "./presence.js";

/** Wire it once the images are known: {projectId, state, store, filmstrip, repaint}. */
export async function installAnnotatorLive({ projectId, state, store, filmstrip, repaint }) {
  const me = await whoAmI();
  const banner = document.getElementById("presence-banner");
  const imageId = () => state.images[state.index]?.id ?? null;
  const filename = (id) => state.images.find((image) => image.id === id)?.filename ?? `image ${id}`;

  function warn(holder) {
    banner.textContent = holder ? `${holder} is labelling this image` : "";
    banner.hidden = !holder;
    if (holder) banner.dataset.heldBy = holder;
    else delete banner.dataset.heldBy;
  }

  /** snapshot: {users, locks} from the stream or a heartbeat's answer. */
  function showPresence(snapshot) {
    renderWhoIsHere(snapshot, me, filename);
    filmstrip.markOthers(others(snapshot, me));
    const holder = snapshot.locks[String(imageId())] ?? null;
    if (me !== null) warn(holder !== me ? holder : null);
  }

  /** True when the batch changed this image's segments. "create" batches name segments this
   * page has not seen: reload the image's list (cheap) to learn whether they are on it. */
  async function applySegments(batch) {
    if (batch.changes === null) {
      // A big batch (its count only): reload this image's few segments rather than read a
      // project-wide list of changes; its masks too unless it changed labels only.
      const labelsOnly = !batch.masks && ["assign", "accept", "undo"].includes(batch.kind);
      await store.refresh(labelsOnly ? [] : store.items.map((s) => s.id));
      return true;
    }
    const ids = batch.changes.map(([id]) => id);
    if (batch.kind === "undo" && batch.masks) {
      // A mask batch undone from the history: masks back, segments deleted or restored.
      await store.refresh(ids);
      return true;
    }
    if (batch.kind === "delete") return store.forget(ids);
    if (["edit", "merge", "split"].includes(batch.kind)) {
      // New masks (and a split's new piece): reload them, unless this page made the change.
      const stale = batch.changes.some(([id, , version]) => {
        const here = store.items.find((s) => s.id === id);
        return here ? here.version < version : batch.kind === "split";
      });
      if (!stale) return false;
      await store.refresh(ids);
      return true;
    }
    if (batch.kind === "create" && store.hasUnknown(ids)) {
      await store.refresh();
      return true;
    }
    return store.applyChanges(batch.changes);
  }

  async function learnLabels(labelIds) {
    const known = new Set(state.labels.map((label) => label.id));
    if (labelIds.some((labelId) => labelId !== null && !known.has(labelId))) {
      state.labels = await loadLabels(projectId); // a label created since this page loaded
    }
  }

  async function applyBatch(batch) {
    const changed = await applySegments(batch);
    await learnLabels(
      batch.changes
        ? batch.changes.map(([, labelId]) => labelId)
        : store.items.map((s) => s.label_id),
    );
    if (changed) repaint();
    document.body.dataset.liveBatch = String(batch.batch_id);
  }

  /** The stream replays nothing from before its first hello: batches committed between this
   * page's first read of the image's segments and then would be missed. Read them again. */
  async function catchUp() {
    await store.refresh();
    await learnLabels(store.items.map((s) => s.label_id));
    repaint();
  }

  const presence = startPresence(projectId, {
    imageId,
    onBeat: (answer) => {
      showPresence(answer);
      warn(answer.held_by);
    },
  });
  filmstrip.onCurrent(() => {
    warn(null);
    presence.beat();
  });
  const stream = openProjectStream(projectId, {
    onLabels: applyBatch,
    onPresence: showPresence,
    onReset: () => location.reload(),
  });
  stream.opened.then(catchUp);
}
