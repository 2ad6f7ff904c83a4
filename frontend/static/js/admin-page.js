// The team page: users and invites, project members (admins); your own API tokens (everyone).
import { $, guarded } from "./dom.js";
import { authStatus } from "./access.js";
import { installKeyboard } from "./keyboard.js";
import { installMembers } from "./admin-members.js";
import { installTokens } from "./admin-tokens.js";
import { installUsers } from "./admin-users.js";

async function init() {
  const { auth, user } = await authStatus();
  const isAdmin = user?.role === "admin";
  $("#single-user-note").hidden = auth !== "none";
  $("#users-section").hidden = !isAdmin;
  // Tokens belong to an account; single-user mode has none.
  $("#tokens-section").hidden = auth === "none";
  const tasks = [];
  if (auth !== "none") tasks.push(installTokens());
  if (isAdmin) {
    const members = installMembers();
    tasks.push(installUsers({ me: user, onChange: members.refreshUsers }), members.ready);
  }
  await Promise.all(tasks);
  document.body.dataset.teamReady = "true";
}

installKeyboard();
guarded($("#users-error"), init);
