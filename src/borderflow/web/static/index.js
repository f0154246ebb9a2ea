import { api, clearSession, currentUser, languageSelect, renderNav, saveSession, showError, showMessage, t, token } from "./app.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("login-form");
const loggedIn = document.getElementById("logged-in");

const REASONS = {
  expired: [t("Your session has ended; please log in again."), "info"],
  login: [t("Please log in first."), "info"],
  "logged-out": [t("You are logged out."), "ok"],
};

function safeNext() {
  const next = params.get("next") || "";
  // only pages of this dashboard, never another site
  return /^[a-z]+\.html(\?[^#]*)?$/.test(next) ? next : "situation.html";
}

/** Logged out: the brand and the language menu (logged in, the nav bar has both). */
function bareNav() {
  const brand = Object.assign(document.createElement("span"), { className: "brand", textContent: "borderflow" });
  const right = Object.assign(document.createElement("div"), { className: "nav-right" });
  right.append(languageSelect());
  document.getElementById("nav").replaceChildren(brand, right);
}

function showLoggedIn(user) {
  document.getElementById("who").textContent = `${user.username} (${user.role})`;
  renderNav(user);
  form.hidden = true;
  loggedIn.hidden = false;
}

if (params.get("reason") && REASONS[params.get("reason")]) showMessage(...REASONS[params.get("reason")]);

if (token() && currentUser()) showLoggedIn(currentUser());
else bareNav();

document.getElementById("login-logout").addEventListener("click", () => {
  clearSession();
  bareNav();
  loggedIn.hidden = true;
  form.hidden = false;
  showMessage(t("You are logged out."), "ok");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showMessage(t("Enter your user name and password."), "error");
    return;
  }
  const button = document.getElementById("login-submit");
  button.disabled = true;
  try {
    const login = await api("/api/login", { method: "POST", body: { username, password }, noRedirect: true });
    saveSession(login);
    location.assign(safeNext());
  } catch (err) {
    if (err.status === 401 || err.status === 403) showMessage(t("Wrong user name or password."), "error");
    else showError(err);
    form.password.value = "";
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
