import { api, clearSession, currentUser, renderNav, saveSession, showError, showMessage, token } from "./app.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("login-form");
const loggedIn = document.getElementById("logged-in");

const REASONS = {
  expired: ["Your session has ended; please log in again.", "info"],
  login: ["Please log in first.", "info"],
  "logged-out": ["You are logged out.", "ok"],
};

function safeNext() {
  const next = params.get("next") || "";
  // only pages of this dashboard, never another site
  return /^[a-z]+\.html(\?[^#]*)?$/.test(next) ? next : "situation.html";
}

function showLoggedIn(user) {
  document.getElementById("who").textContent = `${user.username} (${user.role})`;
  renderNav(user);
  form.hidden = true;
  loggedIn.hidden = false;
}

if (params.get("reason") && REASONS[params.get("reason")]) showMessage(...REASONS[params.get("reason")]);

if (token() && currentUser()) showLoggedIn(currentUser());

document.getElementById("login-logout").addEventListener("click", () => {
  clearSession();
  document.getElementById("nav").replaceChildren(Object.assign(document.createElement("span"), { className: "brand", textContent: "borderflow" }));
  loggedIn.hidden = true;
  form.hidden = false;
  showMessage("You are logged out.", "ok");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showMessage("Enter your user name and password.", "error");
    return;
  }
  const button = document.getElementById("login-submit");
  button.disabled = true;
  try {
    const login = await api("/api/login", { method: "POST", body: { username, password }, noRedirect: true });
    saveSession(login);
    location.assign(safeNext());
  } catch (err) {
    if (err.status === 401 || err.status === 403) showMessage("Wrong user name or password.", "error");
    else showError(err);
    form.password.value = "";
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
