// Every page's top bar: who is signed in, a link to the team page, change password, sign out.
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { authStatus } from "./access.js";

const dialog = $("#password-dialog");
const form = $("#password-form");

async function signOut() {
  await api("/api/auth/logout", { method: "POST" });
  location.assign("/login");
}

function openPassword() {
  form.reset();
  $("#password-error").hidden = true;
  dialog.showModal();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded($("#password-error"), async () => {
    await api("/api/auth/password", {
      method: "POST",
      json: { current_password: form.current.value, new_password: form.new.value },
    });
    dialog.close();
    $("#status").textContent = "Password changed; your other sessions were signed out";
  });
});
$("#password-cancel").addEventListener("click", () => dialog.close());

async function render() {
  const { auth, user } = await authStatus();
  if (!user) return;
  const box = $("#account");
  const signedIn = auth === "required";
  const parts = [
    el("span", { class: "account-name", text: user.username, title: `role: ${user.role}` }),
    signedIn ? null : el("span", { class: "muted", text: "(single-user mode)" }),
    el("a", { href: "/admin", id: "team-link", text: user.role === "admin" ? "Team" : "Account" }),
    signedIn
      ? el("button", {
          type: "button",
          class: "ghost",
          id: "change-password",
          text: "Change password",
          onclick: openPassword,
        })
      : null,
    signedIn
      ? el("button", {
          type: "button",
          class: "ghost",
          id: "sign-out",
          text: "Sign out",
          onclick: () => guarded($("#password-error"), signOut),
        })
      : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
  box.dataset.user = user.username;
  box.hidden = false;
}

render().catch((err) => {
  $("#status").textContent = err.message;
});
