import { api, el, fillScenarioSelect, requireLogin, setState, showError, t } from "./app.js";

await requireLogin();

const main = document.getElementById("main");
const scenarioSelect = document.getElementById("scenario");
const search = document.getElementById("search");
const body = document.getElementById("sources-body");
const count = document.getElementById("sources-count");
let rows = [];

function text(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function highlight(value, terms) {
  const s = text(value);
  if (!terms.length) return [s];
  const re = new RegExp("(" + terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "gi");
  return s.split(re).map((part, i) => (i % 2 === 1 ? el("mark", {}, part) : part));
}

function render() {
  const terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = rows.filter((r) => {
    const hay = [r.parameter, r.value, r.source, r.assumption].map(text).join(" ").toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
  body.replaceChildren(
    ...shown.map((r) =>
      el(
        "tr",
        { "data-parameter": text(r.parameter) },
        el("th", { scope: "row" }, highlight(r.parameter, terms)),
        el("td", { class: "num" }, highlight(r.value, terms)),
        el("td", {}, highlight(r.source, terms)),
        el("td", {}, highlight(r.assumption, terms)),
      ),
    ),
  );
  if (!shown.length) body.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, t("Nothing matches."))));
  count.textContent = terms.length
    ? t("{shown} of {total} numbers match.", { shown: shown.length, total: rows.length })
    : t("{total} numbers.", { total: rows.length });
  count.dataset.shown = String(shown.length);
  count.dataset.total = String(rows.length);
}

async function load() {
  setState(main, "loading");
  rows = await api(`/api/scenarios/${encodeURIComponent(scenarioSelect.value)}/sources`);
  document.getElementById("sources-caption").textContent = t("Parameters of {scenario}", { scenario: scenarioSelect.value });
  render();
  setState(main, "ready");
}

let timer = null;
search.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(render, 120);
});

try {
  await fillScenarioSelect(scenarioSelect);
  const q = new URLSearchParams(location.search).get("q");
  if (q) search.value = q;
  scenarioSelect.addEventListener("change", () => load().catch(showError));
  await load();
} catch (err) {
  setState(main, "error");
  showError(err);
}
