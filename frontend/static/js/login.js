// The sign-in page, also used for first-run setup (?setup=TOKEN) and invites (?invite=TOKEN).
import { api } from "./api.js";

const params = new URLSearchParams(location.search);
const setupToken = params.get("setup");
const inviteToken = params.get("invite");
const form = document.getElementById("login-form");
const errorBox = document.getElementById("login-error");
const username = document.getElementById("username");

// Only same-site paths: an open redirect would turn the login page into a phishing aid.
function nextPath() {
  const next = params.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function describe(title, hint, button) {
  document.getElementById("login-title").textContent = title;
  document.getElementById("login-hint").textContent = hint;
  document.getElementById("login-submit").textContent = button;
}

async function init() {
  const status = await api("/api/auth/status");
  if (status.user && !setupToken && !inviteToken) location.replace(nextPath());
  if (setupToken) {
    describe(
      "Create the administrator",
      "First run: choose the admin account's name and password.",
      "Create admin",
    );
    document.getElementById("password").autocomplete = "new-password";
  } else if (inviteToken) {
    describe("Choose your password", "You were invited to lassolabel.", "Set password");
    username.closest("label").hidden = true;
    username.required = false;
  } else if (status.setup_required) {
    describe(
      "Sign in",
      "No administrator yet: open the link printed in the server console, " +
        "or run `lassolabel users create-admin NAME`.",
      "Sign in",
    );
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.textContent = "";
  const password = document.getElementById("password").value;
  const [path, json] = setupToken
    ? ["/api/auth/setup", { token: setupToken, username: username.value, password }]
    : inviteToken
      ? ["/api/auth/invite", { token: inviteToken, password }]
      : ["/api/auth/login", { username: username.value, password }];
  try {
    await api(path, { method: "POST", json });
    location.replace(setupToken || inviteToken ? "/" : nextPath());
  } catch (err) {
    errorBox.textContent = err.message;
  }
});

init().catch((err) => {
  errorBox.textContent = err.message;
});
