import { ROLES_THAT_UPLOAD, api, clearMessages, el, requireLogin, setState, showError, showMessage } from "./app.js";

const user = await requireLogin();

const main = document.getElementById("main");
const form = document.getElementById("upload-form");
const fileInput = document.getElementById("file");
const result = document.getElementById("upload-result");
const summary = document.getElementById("upload-summary");
const errorsBox = document.getElementById("upload-errors-box");
const LIMIT = 2 * 1024 * 1024;

if (user.role === "data-entry") {
  document.getElementById("publisher-note").hidden = false;
  document.getElementById("publisher-org").textContent = user.organisation || "(none)";
}
if (!ROLES_THAT_UPLOAD.includes(user.role)) {
  showMessage(`Your role (${user.role}) can read observations but not add them; uploads need a data-entry or admin account.`, "info");
}

function csvCell(v) {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

document.getElementById("template").addEventListener("click", (event) => {
  event.preventDefault();
  const rows = [
    ["date", "end_date", "stat", "place_name", "indicator", "value_low", "value_high", "source_publisher", "source_url", "reliability", "coverage"],
    ["#date+start", "#date+end", "#meta+stat", "#loc+name", "#indicator+code", "#indicator+num+min", "#indicator+num+max", "#meta+source", "#meta+url", "#meta+reliability", "#meta+coverage"],
    ["2025-12-01", "", "value", "Chacalluta-Santa Rosa", "stranded", "100", "150", user.organisation || "Your organisation", "", "B", "count at the line in the evening"],
  ];
  const blob = new Blob([rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n"], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: "observations-template.csv", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
});

function errorTable(errors) {
  return el(
    "table",
    { id: "upload-errors", "data-testid": "upload-errors" },
    el("caption", {}, `${errors.length} problem${errors.length === 1 ? "" : "s"}; nothing from this file was stored`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", class: "num" }, "Row (line in the file)"), el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Reason"))),
    el(
      "tbody",
      {},
      errors.map((e) =>
        el("tr", { "data-row": String(e.row ?? "") }, el("td", { class: "num" }, String(e.row ?? "–")), el("td", {}, String(e.field ?? "")), el("td", {}, String(e.reason ?? e.msg ?? ""))),
      ),
    ),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessages();
  const file = fileInput.files[0];
  if (!file) {
    showMessage("Choose a CSV file first.", "error");
    return;
  }
  if (file.size > LIMIT) {
    showMessage(`${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; the limit is 2 MiB. Split it into smaller files.`, "error");
    return;
  }
  const button = document.getElementById("upload-submit");
  button.disabled = true;
  setState(main, "loading");
  result.hidden = true;
  errorsBox.replaceChildren();
  try {
    const report = await api("/api/observations", { method: "POST", body: file, headers: { "Content-Type": "text/csv" } });
    const added = Number(report.added ?? 0);
    const revised = Number(report.revised ?? 0);
    const already = Number(report.already_stored ?? 0);
    const corrected = revised ? `, ${revised} corrected (the old value is kept)` : "";
    summary.textContent = `${file.name}: ${added} row${added === 1 ? "" : "s"} added${corrected}, ${already} already stored.`;
    summary.className = "message ok";
    summary.dataset.added = String(added);
    summary.dataset.revised = String(revised);
    summary.dataset.alreadyStored = String(already);
    result.hidden = false;
    setState(main, "done");
  } catch (err) {
    if (err.status === 401) return;
    const rows = err.rowErrors || [];
    if (rows.length) {
      summary.textContent = `${file.name} was rejected: ${rows.length} problem${rows.length === 1 ? "" : "s"} in ${new Set(rows.map((r) => r.row)).size} row(s). Nothing was stored; fix the rows below and upload the whole file again.`;
      summary.className = "message error";
      errorsBox.replaceChildren(errorTable(rows));
      result.hidden = false;
      setState(main, "rejected");
    } else {
      showError(err);
      setState(main, "error");
    }
  } finally {
    button.disabled = false;
  }
});

setState(main, "ready");
