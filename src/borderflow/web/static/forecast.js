// The situation page's forecast cycle: the latest stored forecast of the scenario (bands),
// earlier ones as faint lines, the counts that arrived since; "update forecast" for analysts
// and the "update after every upload" setting for admins. API: /api/forecasts/...

import {
  COLORS, PLOT_CONFIG, ROLES_THAT_RUN, api, baseLayout, clearMessages, crossingNames, el,
  fanTraces, fmt, observationTraces, qs, setState, showError, showMessage, t, waitForRun,
} from "./app.js";

const EARLIER = 4; // earlier forecasts drawn as faint lines
const section = document.getElementById("forecast-section");
const info = document.getElementById("forecast-info");
const charts = document.getElementById("forecast-charts");
const pendingBox = document.getElementById("forecast-pending");
const actions = document.getElementById("forecast-actions");
const membersField = document.getElementById("forecast-members-field");
const button = document.getElementById("forecast-update");
const progressBox = document.getElementById("forecast-progress-box");
const progress = document.getElementById("forecast-progress");
const status = document.getElementById("forecast-status");
const adminBox = document.getElementById("forecast-admin");
const auto = document.getElementById("forecast-auto");

let current = null; // {scenario, user}

function enc(x) {
  return encodeURIComponent(x);
}

/** Traces of the reports that arrived since the latest forecast, for one place. */
function pendingTraces(rows) {
  if (!rows.length) return [];
  const mid = rows.map((o) => (Number(o.value_low) + Number(o.value_high)) / 2);
  return [{
    x: rows.map((o) => o.end_date),
    y: mid,
    mode: "markers",
    type: "scatter",
    name: t("counts since the forecast"),
    marker: { color: COLORS[1], size: 9, symbol: "circle" },
    error_y: {
      type: "data", symmetric: false, color: COLORS[1], thickness: 1.5,
      array: rows.map((o, i) => Number(o.value_high) - mid[i]),
      arrayminus: rows.map((o, i) => mid[i] - Number(o.value_low)),
    },
    meta: { kind: "pending", count: rows.length },
  }];
}

function earlierTrace(rows, origin) {
  return {
    x: rows.map((r) => r.date),
    y: rows.map((r) => r.q50),
    mode: "lines",
    line: { color: "rgba(90,90,90,0.35)", width: 1 },
    name: t("forecast of {date}", { date: fmt(origin) }),
    hoverinfo: "skip",
    meta: { kind: "earlier-forecast", origin },
  };
}

function originLine(origin) {
  return {
    type: "line", xref: "x", yref: "paper", x0: origin, x1: origin, y0: 0, y1: 1,
    line: { color: "#777", width: 1, dash: "dash" },
  };
}

async function bands(name, origin, crossing) {
  return api(`/api/forecasts/${enc(name)}/${enc(origin)}/bands` + qs({ indicator: "stranded", location: crossing }));
}

async function drawCharts(name, forecasts, pending) {
  const Plotly = window.Plotly;
  const latest = forecasts[forecasts.length - 1];
  const earlier = forecasts.slice(-1 - EARLIER, -1);
  const crossings = crossingNames(current.scenario);
  const boxes = crossings.map((crossing) => {
    const chart = el("div", { class: "chart", "data-testid": "chart-forecast", "data-location": crossing, role: "img", "aria-label": crossing });
    return { chart, box: el("figure", { class: "chart-box", style: "margin:0" }, el("figcaption", {}, el("h3", {}, crossing)), chart) };
  });
  charts.replaceChildren(...boxes.map((b) => b.box));
  await Promise.all(crossings.map(async (crossing, i) => {
    const observed = api("/api/observations" + qs({ indicator: "stranded", place: crossing, format: "json" }));
    const [now, ...before] = await Promise.all([latest, ...earlier].map((f) => bands(name, f.origin, crossing)));
    const mine = pending.filter((o) => o.place_name === crossing && o.indicator === "stranded");
    const traces = [
      ...before.map((rows, j) => earlierTrace(rows, earlier[j].origin)),
      ...fanTraces(now, t("forecast of {date}", { date: fmt(latest.origin) })),
      ...observationTraces(await observed, t("reported")),
      ...pendingTraces(mine),
    ];
    const layout = { ...baseLayout("", t("people")), shapes: [originLine(latest.origin)] };
    await Plotly.newPlot(boxes[i].chart, traces, layout, PLOT_CONFIG);
    boxes[i].chart.dataset.origin = latest.origin;
    boxes[i].chart.dataset.pending = String(mine.length);
  }));
}

function pendingTable(rows) {
  if (!rows.length) return el("p", { class: "muted small" }, t("No count has arrived since the latest forecast."));
  return el(
    "table",
    { "data-testid": "forecast-pending-table" },
    el("caption", {}, t("Counts that arrived since the latest forecast ({n})", { n: rows.length })),
    el("thead", {}, el("tr", {}, [t("Date"), t("Place"), t("Indicator"), t("Reported"), t("Grade")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((o) => el(
      "tr",
      { "data-date": o.date },
      el("td", {}, o.end_date !== o.date ? `${fmt(o.date)} – ${fmt(o.end_date)}` : fmt(o.date)),
      el("td", {}, o.place_name),
      el("td", {}, o.indicator + (o.stat !== "value" ? ` (${o.stat})` : "")),
      el("td", { class: "num" }, o.value_low === o.value_high ? fmt(o.value_low) : `${fmt(o.value_low)}–${fmt(o.value_high)}`),
      el("td", {}, o.reliability || "–"),
    ))),
  );
}

/** Draw the forecast section for a border scenario (hidden for a Flee scenario). */
export async function showForecast(scenario, user) {
  current = { scenario, user };
  const border = crossingNames(scenario).length > 0;
  section.hidden = !border;
  if (!border) return;
  setState(section, "loading");
  clearMessages("forecast-messages");
  try {
    const [forecasts, pending] = await Promise.all([
      api(`/api/forecasts/${enc(scenario.name)}`),
      api(`/api/forecasts/${enc(scenario.name)}/pending`),
    ]);
    const latest = forecasts[forecasts.length - 1];
    section.dataset.forecasts = String(forecasts.length);
    section.dataset.origin = latest ? latest.origin : "";
    section.dataset.newReports = latest ? String(latest.new_reports) : "0";
    actions.hidden = !ROLES_THAT_RUN.includes(user.role);
    membersField.hidden = Boolean(latest);
    pendingBox.replaceChildren(pendingTable(pending));
    if (!latest) {
      info.textContent = t("No forecast of {scenario} yet.", { scenario: scenario.name });
      charts.replaceChildren();
    } else {
      info.textContent = t(
        "Forecast from {origin} ({members} members), conditioned on {reports} reports; {n} earlier forecasts.",
        { origin: fmt(latest.origin), members: latest.members, reports: latest.reports, n: forecasts.length - 1 },
      );
      if (latest.error_variance_per_day > 0) {
        info.textContent += " " + t(
          "Its bands add the model's own error, measured on its forecasts of earlier reports: ±{percent} % a day.",
          { percent: Math.round(100 * Math.sqrt(latest.error_variance_per_day)) },
        );
      }
      await drawCharts(scenario.name, forecasts, pending);
    }
    setState(section, latest ? "ready" : "empty");
  } catch (err) {
    setState(section, "error");
    showError(err, "forecast-messages");
  }
}

async function update() {
  const { scenario } = current;
  const body = membersField.hidden ? {} : { members: Number(document.getElementById("forecast-members").value || 50) };
  const before = section.dataset.origin;
  button.disabled = true;
  progressBox.hidden = false;
  progress.value = 0;
  section.dataset.job = "running";
  status.textContent = t("Submitting…");
  clearMessages("forecast-messages");
  try {
    const started = await api(`/api/forecasts/${enc(scenario.name)}/update`, { method: "POST", body });
    const job = await waitForRun(started.id, (r) => {
      progress.value = Number(r.progress ?? 0);
      status.textContent = t("Updating the forecast: {percent} %", { percent: Math.round(100 * Number(r.progress ?? 0)) });
    });
    if (job.status === "failed") {
      section.dataset.job = "failed";
      showMessage(t("The forecast update failed.") + (job.message ? ` ${job.message}` : ""), "error", "forecast-messages");
      return;
    }
    progress.value = 1;
    await showForecast(scenario, current.user);
    const origin = section.dataset.origin;
    status.textContent = origin && origin !== before
      ? t("Forecast from {origin}: weighed {n} new reports.", { origin: fmt(origin), n: section.dataset.newReports })
      : t("The latest forecast already weighs every stored count.");
    section.dataset.job = "done";
  } catch (err) {
    section.dataset.job = "failed";
    showError(err, "forecast-messages");
  } finally {
    button.disabled = false;
  }
}

async function showSetting(user) {
  adminBox.hidden = user.role !== "admin";
  if (adminBox.hidden) return;
  const setting = await api("/api/forecast-settings");
  auto.checked = setting.update_on_upload;
  auto.addEventListener("change", async () => {
    auto.disabled = true;
    try {
      const saved = await api("/api/forecast-settings", { method: "PUT", body: { update_on_upload: auto.checked } });
      auto.checked = saved.update_on_upload;
      adminBox.dataset.saved = String(saved.update_on_upload);
    } catch (err) {
      auto.checked = !auto.checked;
      showError(err, "forecast-messages");
    } finally {
      auto.disabled = false;
    }
  });
}

/** Wire the section's controls once per page. */
export function setUpForecast(user) {
  button.addEventListener("click", () => update());
  showSetting(user).catch((err) => showError(err, "forecast-messages"));
}
