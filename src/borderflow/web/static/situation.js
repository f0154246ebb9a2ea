import {
  COLORS, PLOT_CONFIG, ROLES_THAT_RUN, api, baseLayout, clearMessages, crossingNames, downloadLink,
  el, fanTraces, fillScenarioSelect, finishedRuns, fmt, isEnsemble, label, lineTrace,
  observationTraces, plotlyReady, preferredRun, qs, requireLogin, runLabel, setState, showError,
  showMessage, summaryRows, t, lang, variantText, waitForRun,
} from "./app.js";
import { setUpForecast, showForecast } from "./forecast.js";

const user = await requireLogin();
const Plotly = plotlyReady();

const main = document.getElementById("main");
const scenarioSelect = document.getElementById("scenario");
const runSelect = document.getElementById("run");
const runInfo = document.getElementById("run-info");
const strandedBox = document.getElementById("stranded-charts");
const crossingBox = document.getElementById("crossing-charts");
const needsBox = document.getElementById("needs");
const form = document.getElementById("run-form");
const reportLinks = document.getElementById("report-links");

let scenarioList = [];
let scenario = null;
let runs = [];
const FLOW_INDICATORS = [
  ["crossed", t("crossed"), COLORS[2]],
  ["refused", t("refused"), COLORS[1]],
  ["irregular_crossing", t("irregular crossings"), COLORS[3]],
];

function enc(x) {
  return encodeURIComponent(x);
}

function setUrl(run) {
  const p = new URLSearchParams({ scenario: scenario.name });
  if (run) p.set("run", run.id);
  history.replaceState(null, "", "?" + p);
}

function setAllStates(state) {
  for (const n of [main, strandedBox, crossingBox, needsBox]) setState(n, state);
}

async function loadScenario(preferId = null) {
  scenario = scenarioList.find((s) => s.name === scenarioSelect.value);
  buildRunForm();
  showForecast(scenario, user); // its own section: draws (or fails) apart from the run's
  setAllStates("loading");
  runs = await finishedRuns(scenario.name);
  runSelect.replaceChildren(...runs.map((r) => el("option", { value: r.id }, runLabel(r))));
  const wanted = preferId ?? new URLSearchParams(location.search).get("run");
  let run = runs.find((r) => String(r.id) === String(wanted)) || preferredRun(runs);
  if (!run) {
    runSelect.append(el("option", { value: "" }, t("no finished run yet")));
    reportLinks.hidden = true;
    runInfo.textContent = t("No finished run of {scenario} yet.", { scenario: scenario.name }) +
      (ROLES_THAT_RUN.includes(user.role) ? " Start a forecast below." : " Ask an analyst to start one.");
    for (const box of [strandedBox, crossingBox, needsBox]) {
      box.replaceChildren(el("p", { class: "muted" }, t("Nothing to show yet.")));
    }
    setUrl(null);
    setAllStates("empty");
    return;
  }
  runSelect.value = String(run.id);
  await showRun(run);
}

async function showRun(run) {
  setAllStates("loading");
  clearMessages();
  setUrl(run);
  runInfo.textContent = t(
    "Run #{id}: {kind}, variant {variant}, seed {seed}; started by {who} at {start}, finished {end}.",
    {
      id: run.id,
      kind: isEnsemble(run) ? t("ensemble of {members} members", { members: run.members }) : t("single run"),
      variant: variantText(run.variant),
      seed: run.seed,
      who: run.created_by ?? "?",
      start: String(run.created_at ?? "").replace("T", " ").slice(0, 19),
      end: String(run.finished_at ?? "").replace("T", " ").slice(0, 19),
    },
  );
  showReportLinks(run);
  const crossings = crossingNames(scenario);
  if (!crossings.length) {
    // a Flee scenario: no border crossings to chart, but its series can still be downloaded
    const note = () =>
      el(
        "p",
        { class: "muted" },
        t("{scenario} has no border crossings to chart here.", { scenario: scenario.name }) + " ",
        downloadLink(`/api/runs/${enc(run.id)}/series` + qs({ format: "csv" }), `run-${run.id}-series.csv`, t("Download the run's series (CSV)"), "download-series"),
      );
    for (const box of [strandedBox, crossingBox, needsBox]) box.replaceChildren(note());
    setAllStates("ready");
    return;
  }
  // each panel on its own: one that fails says so and leaves the others drawn
  const panels = [
    [strandedBox, drawStranded(run, crossings)],
    [crossingBox, drawCrossings(run, crossings)],
    [needsBox, drawNeeds(run)],
  ];
  const results = await Promise.allSettled(panels.map(([, p]) => p));
  results.forEach((r, i) => {
    const box = panels[i][0];
    if (r.status === "fulfilled") setState(box, "ready");
    else {
      setState(box, "error");
      if (r.reason?.status !== 401) {
        box.replaceChildren(el("p", { class: "message error", "data-testid": "panel-error" }, r.reason?.message || String(r.reason)));
      }
    }
  });
  setState(main, results.every((r) => r.status === "fulfilled") ? "ready" : "error");
}

/** The situation report of this run, in the page's language, as PDF and as HTML. */
function showReportLinks(run) {
  const crossings = crossingNames(scenario);
  reportLinks.hidden = !crossings.length;
  if (!crossings.length) return;
  const link = (format) =>
    downloadLink(
      `/api/runs/${enc(run.id)}/report` + qs({ lang, format }),
      `run-${run.id}-situation-report-${lang}.${format}`,
      format === "pdf" ? t("Download the situation report (PDF)") : t("Situation report (HTML)"),
      `download-report-${format}`,
    );
  reportLinks.replaceChildren(link("pdf"), " · ", link("html"));
}

function withOrigin(layout) {
  if (!scenario.origin) return layout;
  return {
    ...layout,
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: scenario.origin, x1: scenario.origin, y0: 0, y1: 1, line: { color: "#777", width: 1, dash: "dash" } }],
    annotations: [{ x: scenario.origin, y: 1, xref: "x", yref: "paper", text: t("forecast origin"), showarrow: false, xanchor: "left", yanchor: "top", font: { size: 10, color: "#555" } }],
  };
}

function chartBox(id, title, location, testid) {
  const chart = el("div", { id, class: "chart", "data-testid": testid, "data-location": location, role: "img", "aria-label": title });
  const foot = el("div", { class: "chart-foot" });
  const box = el("figure", { class: "chart-box", style: "margin:0" }, el("figcaption", {}, el("h3", {}, title)), chart, foot);
  return { box, chart, foot };
}

async function strandedTraces(run, crossing) {
  if (isEnsemble(run)) {
    try {
      const rows = await api(`/api/runs/${enc(run.id)}/bands` + qs({ indicator: "stranded", location: crossing, format: "json" }));
      if (rows.length) {
        return {
          traces: fanTraces(rows, t("forecast")),
          csv: `/api/runs/${enc(run.id)}/bands` + qs({ indicator: "stranded", location: crossing, format: "csv" }),
        };
      }
    } catch (err) {
      if (err.status !== 404) throw err;
    }
  }
  const rows = await api(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "stranded", location: crossing, format: "json" }));
  return {
    traces: [lineTrace(rows, t("forecast"))],
    csv: `/api/runs/${enc(run.id)}/series` + qs({ indicator: "stranded", location: crossing, format: "csv" }),
  };
}

async function drawStranded(run, crossings) {
  const boxes = crossings.map((crossing, i) => chartBox(`chart-stranded-${i}`, crossing, crossing, "chart-stranded"));
  strandedBox.replaceChildren(...boxes.map((b) => b.box));
  await Promise.all(
    crossings.map(async (crossing, i) => {
      const { chart, foot } = boxes[i];
      const [forecast, observed] = await Promise.all([
        strandedTraces(run, crossing),
        api("/api/observations" + qs({ indicator: "stranded", place: crossing, format: "json" })),
      ]);
      const traces = [...forecast.traces, ...observationTraces(observed, t("reported"))];
      const layout = withOrigin(baseLayout("", t("people")));
      await Plotly.newPlot(chart, traces, layout, PLOT_CONFIG);
      chart.dataset.observed = String(observed.length);
      chart.dataset.run = String(run.id);
      foot.replaceChildren(
        el("span", { "data-testid": "observed-count" }, observed.length === 1 ? t("{n} stored observation", { n: 1 }) : t("{n} stored observations", { n: observed.length })),
        el(
          "span",
          {},
          downloadLink(forecast.csv, `run-${run.id}-stranded-${crossing}.csv`, t("Download data (CSV)"), "download-stranded"),
          " · ",
          downloadLink(
            "/api/observations" + qs({ indicator: "stranded", place: crossing, format: "csv" }),
            `observations-stranded-${crossing}.csv`,
            t("Observations (CSV)"),
            "download-observations",
          ),
        ),
      );
    }),
  );
}

async function drawCrossings(run, crossings) {
  const boxes = crossings.map((crossing, i) => chartBox(`chart-crossings-${i}`, crossing, crossing, "chart-crossings"));
  crossingBox.replaceChildren(...boxes.map((b) => b.box));
  await Promise.all(
    crossings.map(async (crossing, i) => {
      const { chart, foot } = boxes[i];
      const rows = await api(`/api/runs/${enc(run.id)}/series` + qs({ location: crossing, format: "json" }));
      const traces = FLOW_INDICATORS.map(([ind, name, color]) =>
        lineTrace(rows.filter((r) => r.indicator === ind), name, color, { meta: { kind: "line", indicator: ind } }),
      );
      const layout = withOrigin(baseLayout("", t("people per day")));
      await Plotly.newPlot(chart, traces, layout, PLOT_CONFIG);
      foot.replaceChildren(
        el("span", {}, isEnsemble(run) ? t("median member of the ensemble") : ""),
        downloadLink(
          `/api/runs/${enc(run.id)}/series` + qs({ location: crossing, format: "csv" }),
          `run-${run.id}-series-${crossing}.csv`,
          t("Download data (CSV)"),
          "download-crossings",
        ),
      );
    }),
  );
}

const NEEDS_ORDER = ["people", "children", "shelter_m2", "water_l", "food_kcal", "latrines"];
const FIGURES = ["peak_stranded", "peak_date", "days_with_stranded", "person_days_stranded", "crossed", "refused", "irregular"];

/** "309" or, for an ensemble with members_90 = {figure: [lo, hi] | {q05, q95}}, "309 (90 %: 250–400)". */
function withRange(value, range) {
  let lo;
  let hi;
  if (Array.isArray(range) && range.length === 2) [lo, hi] = range;
  else if (range && typeof range === "object") {
    lo = range.q05 ?? range.low ?? range.lo;
    hi = range.q95 ?? range.high ?? range.hi;
  }
  return lo !== undefined && hi !== undefined ? `${fmt(value)} (${fmt(lo)}–${fmt(hi)})` : fmt(value);
}

async function drawNeeds(run) {
  const summary = await api(`/api/runs/${enc(run.id)}/summary`);
  const rows = summaryRows(summary);
  const needKeys = [...NEEDS_ORDER];
  for (const r of rows) for (const k of Object.keys(r.needs_at_peak || {})) if (!needKeys.includes(k)) needKeys.push(k);
  const figureKeys = FIGURES.filter((k) => rows.some((r) => k in r));
  const ranges = rows.some((r) => r.members_90);
  const line = (key, title, get, range) =>
    el(
      "tr",
      { "data-figure": key },
      el("th", { scope: "row" }, title),
      rows.map((r) => el("td", { class: "num", "data-crossing": r.crossing }, withRange(get(r), range(r)))),
    );
  const body = [
    ...figureKeys.map((k) => line(k, label(k), (r) => r[k], (r) => (r.members_90 || {})[k])),
    el("tr", {}, el("th", { scope: "rowgroup", colspan: String(rows.length + 1), class: "subhead" }, t("Needs on the day of the peak (Sphere standards)"))),
    ...needKeys.map((k) =>
      line(`needs_at_peak.${k}`, label(k), (r) => (r.needs_at_peak || {})[k], (r) => ((r.members_90 || {}).needs_at_peak || {})[k] ?? (r.members_90 || {})[`needs_at_peak.${k}`]),
    ),
  ];
  needsBox.replaceChildren(
    el(
      "table",
      { id: "needs-table", "data-testid": "needs-table" },
      el(
        "caption",
        {},
        t("Headline figures from the forecast origin on and needs at the peak, run #{id}", { id: run.id }) +
          (ranges ? " " + t("(ensemble median; 90 % range over the members in brackets)") : ""),
      ),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Figure")), rows.map((r) => el("th", { scope: "col", class: "num" }, r.crossing)))),
      el("tbody", {}, body),
    ),
    el(
      "p",
      { class: "small" },
      downloadLink(`/api/runs/${enc(run.id)}/needs` + qs({ format: "csv" }), `run-${run.id}-needs.csv`, t("Download needs per day and place (CSV)"), "download-needs"),
    ),
  );
}

// ---- the "start a forecast" form -----------------------------------------------------------

function optionDescription(v) {
  if (v && typeof v === "object") return v.description || "";
  return v ? String(v) : "";
}

function buildRunForm() {
  if (!ROLES_THAT_RUN.includes(user.role) || scenario.kind === "flee") {
    form.hidden = true; // Flee scenarios are run from the command line, not through the web
    return;
  }
  form.hidden = false;
  const selects = Object.entries(scenario.variants || {}).map(([dim, spec]) => {
    const id = `variant-${dim}`;
    const select = el(
      "select",
      { id, name: dim, "data-testid": `variant-${dim}`, "data-dimension": dim },
      Object.entries(spec.options || {}).map(([option, desc]) =>
        el("option", { value: option, title: optionDescription(desc) }, option + (option === spec.default ? ` (${t("default")})` : "")),
      ),
    );
    select.value = spec.default;
    return el("div", { class: "field" }, el("label", { for: id }, dim.replace(/_/g, " ")), select);
  });
  document.getElementById("variant-selects").replaceChildren(...selects);
  document.getElementById("variant-fields").hidden = selects.length === 0;
  const caps = crossingNames(scenario).map((c, i) =>
    el(
      "div",
      { class: "field" },
      el("label", { for: `capacity-${i}` }, c),
      el("input", { type: "number", id: `capacity-${i}`, min: "0", step: "1", "data-crossing": c, "data-testid": "run-capacity" }),
    ),
  );
  document.getElementById("capacity-inputs").replaceChildren(...caps);
  document.getElementById("capacity-fields").hidden = caps.length === 0;
}

function formRequest() {
  const variant = {};
  for (const s of form.querySelectorAll("select[data-dimension]")) variant[s.dataset.dimension] = s.value;
  const capacity = {};
  for (const input of form.querySelectorAll("input[data-crossing]")) {
    if (input.value !== "") capacity[input.dataset.crossing] = Number(input.value);
  }
  return {
    scenario: scenario.name,
    variant,
    capacity,
    seed: Number(form.seed.value || 0),
    members: Number(form.members.value || 0),
  };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const request = formRequest();
  if (request.members === 1) {
    showMessage(t("An ensemble needs at least 2 members (0 for a single run)."), "error", "run-messages");
    return;
  }
  const button = document.getElementById("run-submit");
  const progress = document.getElementById("run-progress");
  const status = document.getElementById("run-status");
  const box = document.getElementById("run-progress-box");
  clearMessages("run-messages");
  button.disabled = true;
  box.hidden = false;
  progress.value = 0;
  form.dataset.state = "running";
  status.textContent = t("Submitting…");
  try {
    const started = await api("/api/runs", { method: "POST", body: request });
    form.dataset.runId = String(started.id);
    const run = await waitForRun(started.id, (r) => {
      progress.value = Number(r.progress ?? 0);
      status.textContent = t("Run #{id}: {status}", { id: r.id, status: r.status }) + (r.progress != null ? ` (${Math.round(100 * r.progress)} %)` : "") + (r.message ? ` — ${r.message}` : "");
    });
    if (run.status === "failed") {
      form.dataset.state = "failed";
      showMessage(t("Run #{id} failed.", { id: run.id }) + (run.message ? ` ${run.message}` : ""), "error", "run-messages");
      return;
    }
    progress.value = 1;
    status.textContent = t("Run #{id} is done; showing it above.", { id: run.id });
    await loadScenario(run.id);
    form.dataset.state = "done";
    main.scrollIntoView({ behavior: "smooth" });
  } catch (err) {
    form.dataset.state = "failed";
    showError(err, "run-messages");
  } finally {
    button.disabled = false;
  }
});

// ---- start -------------------------------------------------------------------------------

try {
  setUpForecast(user);
  scenarioList = await fillScenarioSelect(scenarioSelect);
  scenarioSelect.addEventListener("change", () => {
    history.replaceState(null, "", "?scenario=" + enc(scenarioSelect.value));
    loadScenario().catch(showError);
  });
  runSelect.addEventListener("change", () => {
    const run = runs.find((r) => String(r.id) === runSelect.value);
    if (run) showRun(run);
  });
  await loadScenario();
} catch (err) {
  setAllStates("error");
  showError(err);
}
