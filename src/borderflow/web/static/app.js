// borderflow dashboard: the one shared module (API calls with the session token, errors,
// navigation bar, CSV downloads, chart helpers). Plain ES module, no build step, no network
// beyond this server: plotly is loaded by each page from /static/vendor/plotly.min.js.

const TOKEN_KEY = "borderflow.token";
const USER_KEY = "borderflow.user";
const SCENARIO_KEY = "borderflow.scenario";
const LANG_KEY = "borderflow.lang";

// ---- language ------------------------------------------------------------------------------
// English text is the message id; other languages come from /api/i18n/{lang}, built from the
// same gettext catalog as the command line's and the report's. The choice is remembered.

export const LANGUAGES = [["en", "English"], ["es", "Español"]];
export const lang = LANGUAGES.some(([code]) => code === localStorage.getItem(LANG_KEY))
  ? localStorage.getItem(LANG_KEY)
  : "en";
let messages = {};

/** The translation of an English message, with {name} placeholders filled from `values`. */
export function t(message, values = {}) {
  let text = messages[message] || message;
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

const ATTRIBUTE_IDS = new WeakMap(); // element -> {attribute: its English text}

/**
 * Translate every element marked data-i18n (its English text is kept as the id), and the
 * attributes named by data-i18n-attrs (e.g. "aria-label placeholder").
 */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    if (!node.dataset.i18nId) node.dataset.i18nId = node.textContent.replace(/\s+/g, " ").trim();
    node.textContent = t(node.dataset.i18nId); // i18n-ok: the HTML's data-i18n texts, checked there
  }
  for (const node of root.querySelectorAll("[data-i18n-attrs]")) {
    if (!ATTRIBUTE_IDS.has(node)) {
      const names = node.dataset.i18nAttrs.split(/\s+/).filter(Boolean);
      ATTRIBUTE_IDS.set(node, Object.fromEntries(names.map((n) => [n, node.getAttribute(n) ?? ""])));
    }
    for (const [name, text] of Object.entries(ATTRIBUTE_IDS.get(node))) {
      node.setAttribute(name, t(text)); // i18n-ok: the HTML's data-i18n-attrs texts, checked there
    }
  }
}

export function setLanguage(code) {
  localStorage.setItem(LANG_KEY, code);
  location.reload();
}

async function loadLanguage() {
  if (lang !== "en") {
    try {
      const response = await fetch(`/api/i18n/${encodeURIComponent(lang)}`);
      if (response.ok) messages = (await response.json()).messages;
    } catch {
      // the page stays in English
    }
  }
  document.documentElement.lang = lang;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => translatePage());
  } else translatePage();
}

await loadLanguage();

/** The language menu: choosing reloads the page in that language and remembers it. */
export function languageSelect() {
  const select = el(
    "select",
    { id: "lang", "data-testid": "lang-select", "aria-label": t("Language") },
    LANGUAGES.map(([code, name]) => el("option", { value: code }, name)),
  );
  select.value = lang;
  select.addEventListener("change", () => setLanguage(select.value));
  return select;
}

export const ROLES_THAT_RUN = ["analyst", "admin"];
export const ROLES_THAT_UPLOAD = ["data-entry", "admin"];

// ---- session -------------------------------------------------------------------------------

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(login) {
  sessionStorage.setItem(TOKEN_KEY, login.token);
  sessionStorage.setItem(
    USER_KEY,
    JSON.stringify({
      username: login.username,
      role: login.role,
      organisation: login.organisation,
    }),
  );
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

function toLogin(reason) {
  const here = location.pathname.replace(/^.*\//, "") + location.search;
  const params = new URLSearchParams();
  if (here && !here.startsWith("index.html")) params.set("next", here);
  if (reason) params.set("reason", reason);
  location.replace("index.html" + (params.toString() ? "?" + params : ""));
}

export function logout() {
  clearSession();
  toLogin("logged-out");
}

// ---- API -----------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, detail, message) {
    super(message);
    this.status = status;
    this.detail = detail;
  }

  // Row errors of a rejected upload: [{row, field, reason}] (422), or [].
  get rowErrors() {
    const d = this.detail;
    if (d && typeof d === "object" && Array.isArray(d.errors)) return d.errors;
    return [];
  }
}

function describeDetail(detail) {
  if (detail == null) return "";
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc, msg, type}]
    return detail
      .map((e) => {
        if (e && typeof e === "object" && "msg" in e) {
          const loc = (e.loc || []).filter((p) => p !== "body" && p !== "query");
          return (loc.length ? loc.join(".") + ": " : "") + e.msg;
        }
        return typeof e === "string" ? e : JSON.stringify(e);
      })
      .join("; ");
  }
  if (typeof detail === "object") {
    if (Array.isArray(detail.errors)) {
      const n = detail.errors.length;
      return `${n} bad row${n === 1 ? "" : "s"}; nothing was stored`;
    }
    if (detail.message) return String(detail.message);
    return JSON.stringify(detail);
  }
  return String(detail);
}

function messageFor(status, detail) {
  const said = describeDetail(detail);
  const role = currentUser()?.role;
  switch (status) {
    case 400:
      return `The request was not accepted: ${said || "bad request"}.`;
    case 403:
      return (
        `Not allowed${role ? ` for your role (${role})` : ""}` + (said ? `: ${said}.` : ".")
      );
    case 404:
      return `Not found${said ? `: ${said}` : ""}.`;
    case 409:
      return `Conflict: ${said}.`;
    case 413:
      return `Too large for the server${said ? `: ${said}` : " (the limit is 2 MiB)"}.`;
    case 422:
      return `The server could not accept this: ${said || "invalid input"}.`;
    default:
      if (status >= 500) return `The server failed (${status})${said ? `: ${said}` : ""}.`;
      return `Request failed (${status})${said ? `: ${said}` : ""}.`;
  }
}

/**
 * Call the API with the session token. Returns parsed JSON (or the Response for raw=true).
 * 401 drops the session and goes back to the login page (unless noRedirect); other errors
 * throw an ApiError with a readable message.
 */
export async function api(path, { method = "GET", body, headers = {}, raw = false, noRedirect = false } = {}) {
  const h = { Accept: raw ? "*/*" : "application/json", ...headers };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData) && typeof body !== "string") {
    payload = JSON.stringify(body);
    h["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers: h, body: payload });
  } catch (err) {
    throw new ApiError(0, null, "Cannot reach the server: is `borderflow serve` running?");
  }
  if (response.status === 401 && !noRedirect) {
    clearSession();
    toLogin("expired");
    throw new ApiError(401, null, "Your session has ended; please log in again.");
  }
  if (!response.ok) {
    let detail = null;
    try {
      const data = await response.json();
      detail = data && "detail" in data ? data.detail : data;
    } catch {
      detail = null;
    }
    throw new ApiError(response.status, detail, messageFor(response.status, detail));
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, v);
  const s = p.toString();
  return s ? "?" + s : "";
}

// ---- page frame ----------------------------------------------------------------------------

const PAGES = [
  ["situation.html", t("Situation")],
  ["map.html", t("Map")],
  ["compare.html", t("Compare")],
  ["upload.html", t("Upload")],
  ["sources.html", t("Sources")],
];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function renderNav(user) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const here = location.pathname.replace(/^.*\//, "") || "index.html";
  const links = el(
    "ul",
    { class: "nav-links" },
    PAGES.map(([href, label]) =>
      el("li", {}, el("a", { href, "aria-current": href === here ? "page" : null, "data-testid": `nav-${href.replace(".html", "")}` }, label)),
    ),
  );
  const who = el(
    "span",
    { class: "nav-user", id: "nav-user", "data-testid": "nav-user" },
    el("strong", { id: "nav-username" }, user.username),
    " ",
    el("span", { class: "role", id: "nav-role", "data-testid": "nav-role" }, user.role),
    user.organisation ? el("span", { class: "org" }, ` · ${user.organisation}`) : null,
  );
  const out = el("button", { type: "button", id: "logout", "data-testid": "logout", class: "secondary", onclick: logout }, t("Log out"));
  nav.replaceChildren(
    el("a", { class: "brand", href: "situation.html" }, "borderflow"),
    links,
    el("div", { class: "nav-right" }, languageSelect(), who, out),
  );
}

/** Every page but the login page: needs a session; draws the nav bar; returns the user. */
export async function requireLogin() {
  if (!token()) {
    toLogin("login");
    return new Promise(() => {}); // never resolves: the page is going away
  }
  let user = currentUser();
  try {
    const me = await api("/api/me");
    user = { username: me.username, role: me.role, organisation: me.organisation };
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  } catch (err) {
    if (err.status === 401) return new Promise(() => {});
    if (!user) throw err;
  }
  renderNav(user);
  document.body.dataset.role = user.role;
  return user;
}

// ---- messages ------------------------------------------------------------------------------

export function showMessage(text, kind = "error", target = "messages") {
  const box = typeof target === "string" ? document.getElementById(target) : target;
  if (!box) return;
  const item = el("p", { class: `message ${kind}`, "data-testid": `message-${kind}` }, text);
  box.replaceChildren(item);
  box.hidden = false;
}

export function clearMessages(target = "messages") {
  const box = typeof target === "string" ? document.getElementById(target) : target;
  if (box) {
    box.replaceChildren();
    box.hidden = true;
  }
}

export function showError(err, target = "messages") {
  if (err && err.status === 401) return; // already on the way to the login page
  console.error(err);
  showMessage(err && err.message ? err.message : String(err), "error", target);
}

export function setState(node, state) {
  const n = typeof node === "string" ? document.getElementById(node) : node;
  if (n) n.dataset.state = state;
}

// ---- downloads -----------------------------------------------------------------------------

/** Fetch a CSV with the token and save it (plain links cannot carry the header). */
export async function downloadCsv(path, filename) {
  const response = await api(path, { raw: true, headers: { Accept: "text/csv" } });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A "download data" link under a chart or table, fetching the CSV endpoint behind it. */
export function downloadLink(path, filename, label = t("Download data (CSV)"), testid = null) {
  const a = el(
    "a",
    { href: path, class: "download", "data-testid": testid || "download", "data-endpoint": path, download: filename },
    label,
  );
  a.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      await downloadCsv(path, filename);
    } catch (err) {
      showError(err);
    }
  });
  return a;
}

// ---- scenarios and runs --------------------------------------------------------------------

let scenarioCache = null;

export async function scenarios() {
  if (!scenarioCache) scenarioCache = await api("/api/scenarios");
  return scenarioCache;
}

/** Fill a <select> with the scenarios; picks ?scenario=, then the last one used. */
export async function fillScenarioSelect(select) {
  const list = await scenarios();
  const wanted = new URLSearchParams(location.search).get("scenario") || sessionStorage.getItem(SCENARIO_KEY);
  select.replaceChildren(
    ...list.map((s) => el("option", { value: s.name, title: s.title || "" }, s.title ? `${s.name} — ${s.title}` : s.name)),
  );
  const names = list.map((s) => s.name);
  if (wanted && names.includes(wanted)) select.value = wanted;
  else if (names.includes("chile-peru-2025")) select.value = "chile-peru-2025";
  select.addEventListener("change", () => sessionStorage.setItem(SCENARIO_KEY, select.value));
  return list;
}

export function rememberScenario(name) {
  sessionStorage.setItem(SCENARIO_KEY, name);
}

export function crossingNames(scenario) {
  return (scenario.crossings || []).map((c) => (typeof c === "string" ? c : c.name));
}

export function variantText(variant) {
  if (!variant || typeof variant !== "object") return String(variant ?? "");
  const parts = Object.entries(variant).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(", ") : t("default");
}

export function runLabel(run) {
  const kind = run.members >= 2 ? t("ensemble of {members}", { members: run.members }) : t("single run");
  const when = (run.finished_at || run.created_at || "").replace("T", " ").slice(0, 16);
  const seed = t("seed {seed}", { seed: run.seed });
  return `#${run.id} · ${variantText(run.variant)} · ${seed} · ${kind}${when ? " · " + when : ""}`;
}

export function isEnsemble(run) {
  return Number(run.members) >= 2;
}

/** Finished runs of a scenario, newest first. */
export async function finishedRuns(scenarioName) {
  const runs = await api("/api/runs");
  return runs.filter((r) => r.scenario === scenarioName && r.status === "done");
}

/** The run to show: the newest finished ensemble, else the newest finished run. */
export function preferredRun(runs) {
  return runs.find(isEnsemble) || runs[0] || null;
}

/** Poll GET /api/runs/{id} until done or failed; onTick(run) after each poll. */
export async function waitForRun(id, onTick, interval = 400) {
  for (;;) {
    const run = await api(`/api/runs/${encodeURIComponent(id)}`);
    if (onTick) onTick(run);
    if (run.status === "done" || run.status === "failed") return run;
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---- charts --------------------------------------------------------------------------------

export const COLORS = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085"];

// plotly's month names and number signs in Spanish (its locale files are not shipped with it)
const PLOTLY_ES = {
  moduleType: "locale",
  name: "es",
  dictionary: {},
  format: {
    days: ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
    shortDays: ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
    months: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    shortMonths: ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    date: "%d/%m/%Y",
    decimal: ",",
    thousands: ".",
  },
};

export function plotlyReady() {
  if (!window.Plotly) throw new Error("The chart library did not load (/static/vendor/plotly.min.js).");
  if (lang === "es") window.Plotly.register(PLOTLY_ES);
  return window.Plotly;
}

export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"], locale: lang };

export function baseLayout(title, yTitle) {
  return {
    title: title ? { text: title, font: { size: 15 } } : undefined,
    margin: { l: 60, r: 20, t: title ? 40 : 16, b: 40 },
    xaxis: { type: "date" },
    yaxis: { title: { text: yTitle }, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.15 },
    hovermode: "x unified",
    separators: lang === "es" ? ",." : ".,",
    font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
  };
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/** Fan-chart traces from band rows {date, q05, q25, q50, q75, q95}. */
export function fanTraces(rows, name, color = COLORS[0]) {
  const x = rows.map((r) => r.date);
  const band = (lo, hi, label, alpha) => [
    { x, y: rows.map((r) => r[lo]), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, name: `${name} ${lo}`, meta: { kind: "band-low" } },
    {
      x,
      y: rows.map((r) => r[hi]),
      mode: "lines",
      line: { width: 0 },
      fill: "tonexty",
      fillcolor: rgba(color, alpha),
      name: `${name} ${label}`,
      hoverinfo: "skip",
      meta: { kind: "band" },
    },
  ];
  return [
    ...band("q05", "q95", t("90 % band (q05–q95)"), 0.18),
    ...band("q25", "q75", t("50 % band (q25–q75)"), 0.35),
    { x, y: rows.map((r) => r.q50), mode: "lines", line: { color, width: 2 }, name: `${name} ${t("median")}`, meta: { kind: "median" } },
  ];
}

/** A plain line from long rows {date, value}. */
export function lineTrace(rows, name, color = COLORS[0], extra = {}) {
  return { x: rows.map((r) => r.date), y: rows.map((r) => r.value), mode: "lines", line: { color, width: 2 }, name, meta: { kind: "line" }, ...extra };
}

/**
 * Observations as traces: single days as points with their low–high range as error bars,
 * periods (date to end_date) as boxes spanning the period and the range.
 */
export function observationTraces(rows, name = "reported") {
  const traces = [];
  const points = rows.filter((o) => !o.end_date || o.end_date === o.date);
  const periods = rows.filter((o) => o.end_date && o.end_date !== o.date);
  const hover = (o) =>
    `${o.date}${o.end_date && o.end_date !== o.date ? " – " + o.end_date : ""}: ` +
    (o.value_low === o.value_high ? `${o.value_low}` : `${o.value_low}–${o.value_high}`) +
    (o.stat && o.stat !== "value" ? ` (${o.stat})` : "") +
    (o.source_publisher ? `<br>${String(o.source_publisher).slice(0, 80)}` : "");
  if (points.length) {
    const mid = points.map((o) => (Number(o.value_low) + Number(o.value_high)) / 2);
    traces.push({
      x: points.map((o) => o.date),
      y: mid,
      mode: "markers",
      type: "scatter",
      name: t("{name} (day)", { name }),
      marker: { color: "#111", size: 8, symbol: "diamond" },
      error_y: {
        type: "data",
        symmetric: false,
        array: points.map((o, i) => Number(o.value_high) - mid[i]),
        arrayminus: points.map((o, i) => mid[i] - Number(o.value_low)),
        color: "#111",
        thickness: 1.5,
      },
      text: points.map(hover),
      hovertemplate: "%{text}<extra></extra>",
      meta: { kind: "observed", count: points.length },
    });
  }
  periods.forEach((o, i) => {
    const lo = Number(o.value_low);
    const hi = Number(o.value_high);
    traces.push({
      x: [o.date, o.end_date, o.end_date, o.date, o.date],
      y: [lo, lo, hi, hi, lo],
      mode: "lines",
      fill: "toself",
      fillcolor: "rgba(17,17,17,0.12)",
      line: { color: "#111", width: 1, dash: "dot" },
      name: t("{name} (period)", { name }),
      legendgroup: "periods",
      showlegend: i === 0,
      text: Array(5).fill(hover(o)),
      hovertemplate: "%{text}<extra></extra>",
      meta: { kind: "observed-period", count: 1 },
    });
  });
  return traces;
}

export function fmt(x) {
  if (x === null || x === undefined || x === "") return "–";
  if (lang !== "en" && typeof x === "string" && /^\d{4}-\d{2}-\d{2}$/.test(x)) {
    return new Date(x + "T00:00:00Z").toLocaleDateString("es-ES", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  }
  if (typeof x === "number") {
    if (!Number.isFinite(x)) return String(x);
    // grouping always, as the report's and the command line's (Babel's) counts: 4.077, not 4077
    const locale = lang === "es" ? "es-ES" : "en-GB";
    return Math.abs(x) >= 100 || Number.isInteger(x)
      ? Math.round(x).toLocaleString(locale, { useGrouping: "always" })
      : x.toLocaleString(locale, { maximumFractionDigits: 2, useGrouping: "always" });
  }
  if (typeof x === "object") {
    // an ensemble figure, e.g. {median, q05, q95} or {q50, q05, q95}
    const mid = x.median ?? x.q50 ?? x.mean ?? x.value;
    const lo = x.q05 ?? x.low ?? x.p05;
    const hi = x.q95 ?? x.high ?? x.p95;
    if (mid !== undefined) return lo !== undefined && hi !== undefined ? `${fmt(mid)} [${fmt(lo)}–${fmt(hi)}]` : fmt(mid);
    return JSON.stringify(x);
  }
  return String(x);
}

/** A number from a figure that may be an ensemble summary object. */
export function num(x) {
  if (typeof x === "number") return x;
  if (x && typeof x === "object") {
    const v = x.median ?? x.q50 ?? x.mean ?? x.value;
    return typeof v === "number" ? v : NaN;
  }
  const n = Number(x);
  return Number.isFinite(n) ? n : NaN;
}

export const LABELS = {
  peak_stranded: t("Peak stranded"),
  peak_date: t("Peak date"),
  days_with_stranded: t("Days with people stranded"),
  person_days_stranded: t("Stranded person-days"),
  crossed: t("Crossed"),
  refused: t("Refused"),
  irregular: t("Irregular crossings"),
  people: t("People"),
  children: t("Children"),
  shelter_m2: t("Shelter (m²)"),
  water_l: t("Water (l/day)"),
  food_kcal: t("Food (kcal/day)"),
  latrines: t("Latrines"),
};

export function label(key) {
  if (LABELS[key]) return LABELS[key];
  if (key.startsWith("needs_at_peak.")) return t("Needs at peak: {label}", { label: label(key.slice(14)) });
  if (key.startsWith("members_90.")) return t("{label}, 90 % range", { label: label(key.slice(11)) });
  return key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, " ");
}

/**
 * Per-crossing summary rows from GET /api/runs/{id}/summary, whatever its outer shape:
 * a list of {crossing, ...}, {crossings: [...]}, or {crossing_name: {...}}.
 */
export function summaryRows(summary) {
  let rows = summary;
  if (rows && !Array.isArray(rows) && typeof rows === "object") {
    if (Array.isArray(rows.crossings)) rows = rows.crossings;
    else if (Array.isArray(rows.summary)) rows = rows.summary;
    else rows = Object.entries(rows).filter(([, v]) => v && typeof v === "object").map(([k, v]) => ({ crossing: k, ...v }));
  }
  return (rows || []).map((r) => ({ ...r, crossing: r.crossing ?? r.name ?? r.location }));
}
