import {
  COLORS, PLOT_CONFIG, ROLES_THAT_RUN, api, baseLayout, clearMessages, crossingNames, downloadLink,
  el, fillScenarioSelect, fmt, isEnsemble, label, lineTrace, num, plotlyReady, qs, requireLogin, t,
  runLabel, scenarios, setState, showError, showMessage, summaryRows, waitForRun,
} from "./app.js";

const user = await requireLogin();
const Plotly = plotlyReady();

const main = document.getElementById("main");
const pickForm = document.getElementById("pick-form");
const startForm = document.getElementById("start-form");
const selA = document.getElementById("run-a");
const selB = document.getElementById("run-b");
const scenarioSelect = document.getElementById("scenario");
const result = document.getElementById("result");
const enc = encodeURIComponent;

let runs = [];
let scenarioList = [];

async function loadRuns() {
  runs = (await api("/api/runs")).filter((r) => r.status === "done");
  for (const sel of [selA, selB]) {
    const keep = sel.value;
    sel.replaceChildren(...runs.map((r) => el("option", { value: r.id }, `${r.scenario} ${runLabel(r)}`)));
    if (keep) sel.value = keep;
  }
  const p = new URLSearchParams(location.search);
  if (p.get("a")) selA.value = p.get("a");
  else if (!selA.value && runs.length > 1) selA.value = String(runs[1].id);
  if (p.get("b")) selB.value = p.get("b");
  else if (!selB.value && runs.length) selB.value = String(runs[0].id);
}

function bandTraces(rows, name, color) {
  const x = rows.map((r) => r.date);
  const rgba = color === COLORS[0] ? "rgba(31,95,168,0.22)" : "rgba(192,57,43,0.22)";
  return [
    { x, y: rows.map((r) => r.q25), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, name: `${name} q25`, meta: { kind: "band-low" } },
    { x, y: rows.map((r) => r.q75), mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: rgba, hoverinfo: "skip", name: `${name} ${t("50 % band")}`, meta: { kind: "band" } },
    { x, y: rows.map((r) => r.q50), mode: "lines", line: { color, width: 2 }, name: `${name} ${t("median")}`, meta: { kind: "median" } },
  ];
}

async function runTraces(run, crossing, name, color) {
  if (isEnsemble(run)) {
    try {
      const rows = await api(`/api/runs/${enc(run.id)}/bands` + qs({ indicator: "stranded", location: crossing, format: "json" }));
      if (rows.length) return bandTraces(rows, name, color);
    } catch (err) {
      if (err.status !== 404) throw err;
    }
  }
  const rows = await api(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "stranded", location: crossing, format: "json" }));
  return [lineTrace(rows, name, color)];
}

function summaryOf(x) {
  if (!x) return [];
  if (Array.isArray(x)) return summaryRows(x);
  if (x.summary) return summaryRows(x.summary);
  return summaryRows(x);
}

/** Flatten one crossing's figures: {peak_stranded, ..., "needs_at_peak.water_l": ...}. */
function flat(row) {
  const out = {};
  for (const [k, v] of Object.entries(row || {})) {
    if (k === "crossing" || k === "name" || k === "location" || k === "members_90") continue;
    if (v && typeof v === "object" && !("median" in v) && !("q50" in v) && !("mean" in v)) {
      for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    } else out[k] = v;
  }
  return out;
}

function diffsOf(resp) {
  const d = resp.differences ?? resp.difference ?? resp.diff ?? resp.delta ?? null;
  if (!d) return new Map();
  return new Map(summaryRows(d).map((r) => [r.crossing, flat(r)]));
}

function renderDiff(resp, a, b) {
  const rowsA = summaryOf(resp.a ?? resp.summary_a);
  const rowsB = summaryOf(resp.b ?? resp.summary_b);
  const given = diffsOf(resp);
  const crossings = [...new Set([...rowsA, ...rowsB].map((r) => r.crossing).concat([...given.keys()]))];
  const table = el(
    "table",
    { id: "diff-table", "data-testid": "diff-table" },
    el("caption", {}, t("B (#{b}) minus A (#{a}) per crossing", { a: a.id, b: b.id })),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Crossing")), el("th", { scope: "col" }, t("Figure")), el("th", { scope: "col", class: "num" }, `A #${a.id}`), el("th", { scope: "col", class: "num" }, `B #${b.id}`), el("th", { scope: "col", class: "num" }, "B − A"))),
  );
  const body = el("tbody");
  for (const c of crossings) {
    const fa = flat(rowsA.find((r) => r.crossing === c));
    const fb = flat(rowsB.find((r) => r.crossing === c));
    const fd = given.get(c) || {};
    const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb), ...Object.keys(fd)])];
    keys.forEach((k, i) => {
      let d = fd[k];
      if (d === undefined) {
        const x = num(fa[k]);
        const y = num(fb[k]);
        const days = (t) => (typeof t === "string" && /^\d{4}-\d\d-\d\d$/.test(t) ? Date.parse(t) / 86400000 : NaN);
        if (Number.isFinite(x) && Number.isFinite(y)) d = y - x;
        else if (Number.isFinite(days(fa[k])) && Number.isFinite(days(fb[k]))) {
          const n = Math.round(days(fb[k]) - days(fa[k]));
          const signed = `${n > 0 ? "+" : ""}${n}`;
          d = n === 0 ? t("same day") : Math.abs(n) === 1 ? t("{n} day", { n: signed }) : t("{n} days", { n: signed });
        } else d = fa[k] === fb[k] ? t("same") : "";
      }
      const dn = num(d);
      const cls = Number.isFinite(dn) && dn !== 0 ? (dn > 0 ? "num pos" : "num neg") : "num";
      body.append(
        el(
          "tr",
          { "data-crossing": c, "data-figure": k },
          i === 0 ? el("th", { scope: "rowgroup", rowspan: String(keys.length) }, c) : null,
          el("td", {}, label(k)),
          el("td", { class: "num" }, fmt(fa[k])),
          el("td", { class: "num" }, fmt(fb[k])),
          el("td", { class: cls }, typeof d === "number" && d > 0 ? "+" + fmt(d) : fmt(d)),
        ),
      );
    });
  }
  table.append(body);
  document.getElementById("diff").replaceChildren(table);
}

async function compare(idA, idB) {
  setState(main, "loading");
  clearMessages();
  const a = runs.find((r) => String(r.id) === String(idA)) || (await api(`/api/runs/${enc(idA)}`));
  const b = runs.find((r) => String(r.id) === String(idB)) || (await api(`/api/runs/${enc(idB)}`));
  history.replaceState(null, "", "?" + new URLSearchParams({ a: a.id, b: b.id }));
  const resp = await api("/api/compare" + qs({ a: a.id, b: b.id }));
  const list = scenarioList.length ? scenarioList : await scenarios();
  const sc = list.find((s) => s.name === a.scenario) || { crossings: [] };
  const crossings = crossingNames(sc);
  result.hidden = false;
  document.getElementById("result-info").textContent = `A: ${a.scenario} ${runLabel(a)} — B: ${b.scenario} ${runLabel(b)}` +
    (a.scenario !== b.scenario ? " " + t("(different scenarios)") : "") +
    (a.seed !== b.seed ? " " + t("(different seeds: the difference includes chance)") : "");
  const box = document.getElementById("compare-charts");
  box.replaceChildren();
  await Promise.all(
    crossings.map(async (crossing, i) => {
      const chart = el("div", { id: `chart-compare-${i}`, class: "chart", "data-testid": "chart-compare", "data-location": crossing, role: "img", "aria-label": t("Stranded at {crossing}, A and B", { crossing }) });
      const foot = el(
        "div",
        { class: "chart-foot" },
        downloadLink(`/api/runs/${enc(a.id)}/series` + qs({ indicator: "stranded", location: crossing, format: "csv" }), `run-${a.id}-stranded-${crossing}.csv`, t("Download A (CSV)"), "download-a"),
        downloadLink(`/api/runs/${enc(b.id)}/series` + qs({ indicator: "stranded", location: crossing, format: "csv" }), `run-${b.id}-stranded-${crossing}.csv`, t("Download B (CSV)"), "download-b"),
      );
      box.append(el("figure", { class: "chart-box", style: "margin:0" }, el("figcaption", {}, el("h3", {}, crossing)), chart, foot));
      const [ta, tb] = await Promise.all([
        runTraces(a, crossing, `A #${a.id}`, COLORS[0]),
        runTraces(b, crossing, `B #${b.id}`, COLORS[1]),
      ]);
      await Plotly.newPlot(chart, [...ta, ...tb], baseLayout("", t("people")), PLOT_CONFIG);
    }),
  );
  renderDiff(resp, a, b);
  setState(main, "ready");
}

function variantSelects(box, side) {
  const sc = scenarioList.find((s) => s.name === scenarioSelect.value);
  const fields = Object.entries(sc?.variants || {}).map(([dim, spec]) => {
    const id = `variant-${side}-${dim}`;
    const select = el(
      "select",
      { id, "data-dimension": dim, "data-testid": `variant-${side}-${dim}` },
      Object.entries(spec.options || {}).map(([o, desc]) => el("option", { value: o, title: typeof desc === "string" ? desc : desc?.description || "" }, o + (o === spec.default ? " (default)" : ""))),
    );
    select.value = spec.default;
    return el("div", { class: "field" }, el("label", { for: id }, dim.replace(/_/g, " ")), select);
  });
  box.replaceChildren(...fields);
}

function chosenVariant(box) {
  const v = {};
  for (const s of box.querySelectorAll("select[data-dimension]")) v[s.dataset.dimension] = s.value;
  return v;
}

pickForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!selA.value || !selB.value) {
    showMessage(t("Pick two finished runs (or start two below)."), "error");
    return;
  }
  compare(selA.value, selB.value).catch((err) => {
    setState(main, "error");
    showError(err);
  });
});

startForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const boxA = document.getElementById("variant-a");
  const boxB = document.getElementById("variant-b");
  const members = Number(document.getElementById("start-members").value || 0);
  const seed = Number(document.getElementById("start-seed").value || 0);
  if (members === 1) {
    showMessage(t("An ensemble needs at least 2 members (0 for single runs)."), "error");
    return;
  }
  const button = document.getElementById("start-submit");
  const status = document.getElementById("start-status");
  document.getElementById("start-progress-box").hidden = false;
  button.disabled = true;
  startForm.dataset.state = "running";
  clearMessages();
  try {
    const base = { scenario: scenarioSelect.value, capacity: {}, seed, members };
    const [ra, rb] = await Promise.all([
      api("/api/runs", { method: "POST", body: { ...base, variant: chosenVariant(boxA) } }),
      api("/api/runs", { method: "POST", body: { ...base, variant: chosenVariant(boxB) } }),
    ]);
    status.textContent = t("Runs #{a} and #{b} started…", { a: ra.id, b: rb.id });
    const tick = (side) => (r) => {
      document.getElementById(`start-progress-${side}`).value = Number(r.progress ?? 0);
      status.textContent = t("Run #{id} ({side}): {status}", { id: r.id, side: side.toUpperCase(), status: r.status }) + (r.message ? " — " + r.message : "");
    };
    const [da, db] = await Promise.all([waitForRun(ra.id, tick("a")), waitForRun(rb.id, tick("b"))]);
    const failed = [da, db].filter((r) => r.status === "failed");
    if (failed.length) {
      startForm.dataset.state = "failed";
      showMessage(failed.map((r) => t("Run #{id} failed.", { id: r.id }) + (r.message ? " " + r.message : "")).join("; "), "error");
      return;
    }
    status.textContent = t("Runs #{a} and #{b} are done.", { a: da.id, b: db.id });
    await loadRuns();
    selA.value = String(da.id);
    selB.value = String(db.id);
    await compare(da.id, db.id);
    startForm.dataset.state = "done";
  } catch (err) {
    startForm.dataset.state = "failed";
    showError(err);
  } finally {
    button.disabled = false;
  }
});

try {
  scenarioList = await fillScenarioSelect(scenarioSelect);
  const redoVariants = () => {
    variantSelects(document.getElementById("variant-a"), "a");
    variantSelects(document.getElementById("variant-b"), "b");
  };
  scenarioSelect.addEventListener("change", redoVariants);
  redoVariants();
  startForm.hidden = !ROLES_THAT_RUN.includes(user.role);
  await loadRuns();
  const p = new URLSearchParams(location.search);
  if (p.get("a") && p.get("b")) await compare(p.get("a"), p.get("b"));
  else {
    if (runs.length < 2) showMessage(t("Fewer than two finished runs: start two variants to compare them."), "info");
    setState(main, "ready");
  }
} catch (err) {
  setState(main, "error");
  showError(err);
}
