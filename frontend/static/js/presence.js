// Who is where in the project. Each page sends heartbeats saying which image it is on (null:
// none); the first to arrive on an image holds its soft lock until they leave or go quiet
// (app/live/presence.py). Nothing is refused: the others are warned, versions keep data right.
import { api, csrfHeaders } from "./api.js";
import { el } from "./dom.js";

// The server forgets a visitor after presence_ttl_seconds (30 s by default): beat well inside it.
const BEAT_MS = 10_000;

/** The signed-in username ("local" without sign-in), or null when the server does not say. */
export async function whoAmI() {
  try {
    return (await api("/api/auth/me")).username;
  } catch {
    return null;
  }
}

/**
 * Beat every BEAT_MS and on beat() (call it when the image changes); leave on pagehide.
 * onBeat({users, locks, held_by}) gets the answer to the latest beat only: held_by names who
 * holds the image's soft lock when it is not this user. Returns {beat}.
 */
export function startPresence(projectId, { imageId = () => null, onBeat = () => {} } = {}) {
  const url = `/api/projects/${projectId}/presence`;
  let sent = 0;
  const beat = async () => {
    const mine = ++sent;
    try {
      const answer = await api(url, { method: "POST", json: { image_id: imageId() ?? null } });
      if (mine === sent) onBeat(answer);
    } catch (err) {
      // Presence is advisory: a lost beat only delays what others see; the next one retries.
      console.warn("presence heartbeat failed:", err.message);
    }
  };
  setInterval(beat, BEAT_MS);
  // keepalive: the request outlives the page, so others see this user leave at once.
  window.addEventListener("pagehide", () => {
    fetch(url, { method: "DELETE", keepalive: true, headers: csrfHeaders("DELETE") }).catch(
      () => {},
    );
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) beat();
  });
  beat();
  return { beat };
}

/** The others in a presence snapshot: [{username, image_id}] without `me`. */
export function others(snapshot, me) {
  return snapshot.users.filter((user) => user.username !== me);
}

/** The header's "who is here" list (#presence), everyone but `me`; names as text. */
export function renderWhoIsHere(snapshot, me, describeImage = (id) => `image ${id}`) {
  const box = document.getElementById("presence");
  if (!box) return;
  const people = others(snapshot, me);
  box.replaceChildren(
    ...(people.length ? [el("span", { class: "muted", text: "Here:" })] : []),
    ...people.map((user) =>
      el("span", {
        class: "presence-user",
        "data-username": user.username,
        text:
          user.image_id === null
            ? user.username
            : `${user.username} · ${describeImage(user.image_id)}`,
      }),
    ),
  );
  box.hidden = !people.length;
}

/** For a page on no image (map, review): beat as present and list the others in the header.
 * Returns the handler for the event stream's presence snapshots. */
export function joinProject(projectId) {
  const me = whoAmI();
  const show = (snapshot) => me.then((name) => renderWhoIsHere(snapshot, name));
  startPresence(projectId, { onBeat: show });
  return show;
}
