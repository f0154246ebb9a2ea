import {
  PLOT_CONFIG, api, crossingNames, downloadLink, el, fillScenarioSelect, finishedRuns, fmt,
  plotlyReady, preferredRun, qs, requireLogin, runLabel, setState, showError, showMessage, clearMessages, t,
} from "./app.js";

await requireLogin();
const Plotly = plotlyReady();

const main = document.getElementById("main");
const scenarioSelect = document.getElementById("scenario");
const runSelect = document.getElementById("run");
const slider = document.getElementById("map-day");
const dayLabel = document.getElementById("map-day-label");
const chart = document.getElementById("map-chart");
const foot = document.getElementById("map-foot");
const viewSelect = document.getElementById("map-view");
const LABELLED = new Set(["city", "destination", "town", "camp", "conflict", "conflict_zone"]);

const KIND_COLORS = {
  residence: "#7f8c8d",
  city: "#34495e",
  post: "#c0392b",
  destination: "#2e8b57",
  shelter: "#d35400",
  camp: "#d35400",
  conflict: "#8e44ad",
  conflict_zone: "#8e44ad",
  town: "#34495e",
};

let detail = null; // the scenario with places and routes
let world = null; // GeoJSON: land, lakes, country borders, admin-1 lines (served by the app)
let runs = [];
let dates = [];
let flowByDay = new Map(); // "A|B" (sorted pair) -> Map(date -> people)
let strandedByDay = new Map(); // crossing -> Map(date -> people)
let crossingPos = new Map(); // crossing -> {lon, lat}
let maxFlow = 1;
let maxStranded = 1;

const enc = encodeURIComponent;
const pairKey = (a, b) => [a, b].sort().join("|");

function locateCrossings() {
  const byName = new Map(detail.places.map((p) => [p.name, p]));
  crossingPos = new Map();
  for (const c of detail.crossings || []) {
    const name = typeof c === "string" ? c : c.name;
    let posts = [];
    if (typeof c === "object" && (c.exit_post || c.entry_post)) posts = [c.exit_post, c.entry_post];
    else {
      // "Exit-Entry": try every split on "-"
      const parts = name.split("-");
      for (let k = 1; k < parts.length && posts.length === 0; k++) {
        const a = parts.slice(0, k).join("-");
        const b = parts.slice(k).join("-");
        if (byName.has(a) && byName.has(b)) posts = [a, b];
      }
    }
    const found = posts.map((p) => byName.get(p)).filter(Boolean);
    if (found.length) {
      crossingPos.set(name, {
        lon: found.reduce((s, p) => s + Number(p.lon), 0) / found.length,
        lat: found.reduce((s, p) => s + Number(p.lat), 0) / found.length,
      });
    }
  }
}

// the world under the graph: one trace per layer, its lines joined by gaps (null)
const WORLD_STYLE = {
  land: { fill: "toself", fillcolor: "#f5f2ea", line: { color: "#8aa4b8", width: 0.6 } },
  lakes: { fill: "toself", fillcolor: "#dbe7f0", line: { color: "#8aa4b8", width: 0.5 } },
  admin1: { line: { color: "#9a9a9a", width: 0.7, dash: "dot" } },
  countries: { line: { color: "#555555", width: 1.3 } },
};
const WORLD_NAMES = { land: t("land"), lakes: t("lakes"), admin1: t("first-level region"), countries: t("country border") };
// the kinds of place, as the legend and the tooltips name them
const KIND_NAMES = {
  residence: t("home region"),
  city: t("city"),
  post: t("border post"),
  destination: t("destination"),
  shelter: t("shelter"),
  camp: t("camp"),
  conflict: t("conflict zone"),
  conflict_zone: t("conflict zone"),
  town: t("town"),
};

function worldTraces() {
  const out = [];
  for (const f of world?.features ?? []) {
    const layer = f.properties.layer;
    const lines = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates.map((poly) => poly[0]) : f.geometry.coordinates;
    const x = [];
    const y = [];
    for (const line of lines) {
      for (const [lon, lat] of line) {
        x.push(lon);
        y.push(lat);
      }
      x.push(null);
      y.push(null);
    }
    out.push({
      type: "scatter",
      mode: "lines",
      x,
      y,
      hoverinfo: "skip",
      name: WORLD_NAMES[layer] ?? layer,
      showlegend: layer === "countries" || layer === "admin1",
      ...WORLD_STYLE[layer],
      meta: { kind: "boundary", layer },
    });
  }
  // land first, then lakes over it, then the lines
  const order = ["land", "lakes", "admin1", "countries"];
  return out.sort((a, b) => order.indexOf(a.meta.layer) - order.indexOf(b.meta.layer));
}

function traces(dayIndex) {
  const date = dates[dayIndex];
  const byName = new Map(detail.places.map((p) => [p.name, p]));
  const out = worldTraces();
  for (const r of detail.routes) {
    const a = byName.get(r.from);
    const b = byName.get(r.to);
    if (!a || !b) continue;
    const flow = flowByDay.get(pairKey(r.from, r.to))?.get(date) ?? 0;
    out.push({
      type: "scatter",
      mode: "lines",
      x: [a.lon, b.lon],
      y: [a.lat, b.lat],
      line: { width: 1 + (14 * flow) / maxFlow, color: flow > 0 ? "rgba(31,95,168,0.75)" : "rgba(120,130,140,0.45)" },
      hoverinfo: "text",
      text: t("{from} – {to}: {n} people ({km} km, {mode})", { from: r.from, to: r.to, n: fmt(flow), km: fmt(r.km ?? "?"), mode: r.mode ?? "" }),
      showlegend: false,
      meta: { kind: "route", route: `${r.from}>${r.to}`, flow },
    });
  }
  const kinds = [...new Set(detail.places.map((p) => p.kind))];
  for (const kind of kinds) {
    const ps = detail.places.filter((p) => p.kind === kind);
    out.push({
      type: "scatter",
      mode: LABELLED.has(kind) ? "markers+text" : "markers",
      x: ps.map((p) => p.lon),
      y: ps.map((p) => p.lat),
      text: ps.map((p) => p.name),
      textposition: "middle left",
      textfont: { size: 10, color: "#444" },
      marker: { size: 7, color: KIND_COLORS[kind] || "#555" },
      name: KIND_NAMES[kind] ?? kind,
      hovertemplate: "%{text}<extra>" + (KIND_NAMES[kind] ?? kind) + "</extra>",
      meta: { kind: "places" },
    });
  }
  const names = [...crossingPos.keys()];
  const values = names.map((c) => strandedByDay.get(c)?.get(date) ?? 0);
  out.push({
    type: "scatter",
    mode: "markers+text",
    textposition: "middle right",
    texttemplate: names.map((c, i) => `  ${c}: ${fmt(values[i])}`),
    textfont: { size: 12, color: "#8a1c12" },
    x: names.map((c) => crossingPos.get(c).lon),
    y: names.map((c) => crossingPos.get(c).lat),
    marker: {
      size: values.map((v) => 8 + (52 * Math.sqrt(v)) / Math.sqrt(maxStranded)),
      color: "rgba(192,57,43,0.45)",
      line: { color: "#c0392b", width: 2 },
    },
    text: names.map((c, i) => t("{crossing}: {n} stranded", { crossing: c, n: fmt(values[i]) })),
    hovertemplate: "%{text}<extra></extra>",
    name: t("stranded"),
    meta: { kind: "stranded", values },
  });
  return out;
}

function layout() {
  let pts = detail.places.map((p) => [Number(p.lon), Number(p.lat)]);
  let pad = 1;
  if (viewSelect.value === "border" && crossingPos.size) {
    // the crossings and every place within 3 degrees of one
    const cs = [...crossingPos.values()];
    pts = pts.filter(([lon, lat]) => cs.some((c) => Math.abs(c.lon - lon) < 3 && Math.abs(c.lat - lat) < 3));
    pad = 0.4;
  }
  const lons = pts.map((p) => p[0]);
  const lats = pts.map((p) => p[1]);
  // longitude degrees shrink with latitude: keep distances true at the map's middle latitude
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  return {
    margin: { l: 50, r: 20, t: 20, b: 70 },
    xaxis: { title: { text: t("longitude") }, range: [Math.min(...lons) - pad, Math.max(...lons) + pad], zeroline: false },
    yaxis: { title: { text: t("latitude") }, range: [Math.min(...lats) - pad, Math.max(...lats) + pad], scaleanchor: "x", scaleratio: 1 / Math.cos((midLat * Math.PI) / 180), zeroline: false },
    legend: { orientation: "h", x: 0, y: -0.1, yanchor: "top" }, // under the axis title
    plot_bgcolor: world ? "#dbe7f0" : undefined, // the sea, when the world is drawn
    hovermode: "closest",
    font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
  };
}

function redraw() {
  const i = Number(slider.value);
  dayLabel.textContent = dates[i] ? fmt(dates[i]) : "–";
  chart.dataset.date = dates[i] ?? "";
  return Plotly.react(chart, traces(i), layout(), PLOT_CONFIG);
}

async function loadRun(run) {
  setState(main, "loading");
  clearMessages();
  const [flows, stranded] = await Promise.all([
    api(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "flow", format: "json" })),
    api(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "stranded", format: "json" })),
  ]);
  flowByDay = new Map();
  for (const r of flows) {
    const [a, b] = String(r.location).split(">");
    const key = pairKey(a, b);
    if (!flowByDay.has(key)) flowByDay.set(key, new Map());
    const m = flowByDay.get(key);
    m.set(r.date, (m.get(r.date) ?? 0) + Number(r.value));
  }
  strandedByDay = new Map();
  for (const r of stranded) {
    if (!strandedByDay.has(r.location)) strandedByDay.set(r.location, new Map());
    strandedByDay.get(r.location).set(r.date, Number(r.value));
  }
  dates = [...new Set([...flows, ...stranded].map((r) => r.date))].sort();
  maxFlow = Math.max(1, ...[...flowByDay.values()].flatMap((m) => [...m.values()]));
  maxStranded = Math.max(1, ...[...strandedByDay.values()].flatMap((m) => [...m.values()]));
  // start on the day with the most people stranded
  const total = dates.map((d) => [...strandedByDay.values()].reduce((s, m) => s + (m.get(d) ?? 0), 0));
  slider.max = String(Math.max(0, dates.length - 1));
  slider.value = String(Math.max(0, total.indexOf(Math.max(...total))));
  await redraw();
  foot.replaceChildren(
    el("span", {}, runLabel(run)),
    el(
      "span",
      {},
      downloadLink(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "flow", format: "csv" }), `run-${run.id}-flow.csv`, t("Flows (CSV)"), "download-flow"),
      " · ",
      downloadLink(`/api/runs/${enc(run.id)}/series` + qs({ indicator: "stranded", format: "csv" }), `run-${run.id}-stranded.csv`, t("Stranded (CSV)"), "download-stranded"),
    ),
  );
  setState(main, "ready");
}

async function loadScenario() {
  setState(main, "loading");
  detail = await api(`/api/scenarios/${enc(scenarioSelect.value)}`);
  try {
    world = await api(`/api/scenarios/${enc(scenarioSelect.value)}/boundaries`);
  } catch (err) {
    world = null; // the graph still draws without its background
    showMessage(t("No boundaries for this map ({error}).", { error: err.message ?? err }), "info");
  }
  locateCrossings();
  runs = await finishedRuns(detail.name);
  runSelect.replaceChildren(...runs.map((r) => el("option", { value: r.id }, runLabel(r))));
  const wanted = new URLSearchParams(location.search).get("run");
  const run = runs.find((r) => String(r.id) === wanted) || preferredRun(runs);
  if (!run) {
    // the graph alone, without flows
    runSelect.append(el("option", { value: "" }, t("no finished run yet")));
    foot.replaceChildren();
    dates = [""];
    flowByDay = new Map();
    strandedByDay = new Map();
    slider.max = "0";
    await redraw();
    showMessage(t("No finished run of {scenario} yet: showing the roads only.", { scenario: detail.name }), "info");
    setState(main, "empty");
    return;
  }
  runSelect.value = String(run.id);
  await loadRun(run);
}

try {
  await fillScenarioSelect(scenarioSelect);
  scenarioSelect.addEventListener("change", () => loadScenario().catch(showError));
  runSelect.addEventListener("change", () => {
    const run = runs.find((r) => String(r.id) === runSelect.value);
    if (run) loadRun(run).catch(showError);
  });
  slider.addEventListener("input", () => redraw());
  viewSelect.addEventListener("change", () => redraw());
  await loadScenario();
} catch (err) {
  setState(main, "error");
  showError(err);
}
