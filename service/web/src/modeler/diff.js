// The visual diff page: the newer version with added (green) and changed (orange) elements marked, the
// older one with removed elements (red), and the property changes as a list — from the diff API.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "./modeler.css";
import spiffDescriptor from "./spiffworkflow.json";
import { importDiagram } from "./spiff-model.js";
import { callApi, el, errorText, modelUrl } from "./api.js";

async function draw(container, key, number, marks) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { spiffworkflow: spiffDescriptor } });
  const response = await fetch(modelUrl(key, `/versions/${number}/bpmn`), { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  await importDiagram(viewer, await response.text());
  const registry = viewer.get("elementRegistry");
  const canvas = viewer.get("canvas");
  for (const [marker, items] of Object.entries(marks)) {
    for (const item of items) if (registry.get(item.id)) canvas.addMarker(item.id, marker);
  }
  canvas.zoom("fit-viewport");
  container.dataset.state = "ready";
  return viewer;
}

function show(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function list(diff, labels) {
  const rows = [];
  const row = (kind, item, property = "", old = "", now = "") => rows.push(el("tr", { className: `diff-row-${kind}`,
    "data-element": item.id },
  el("td", { "data-label": labels.changed }, el("span", { className: `swatch diff-${kind}` }), labels[kind]),
  el("td", { "data-label": labels.element }, item.name ? `${item.name} ` : "", el("code", {}, item.id), ` ${item.type || ""}`),
  el("td", { "data-label": labels.property }, property),
  el("td", { "data-label": labels.old }, old),
  el("td", { "data-label": labels.new }, now)));
  for (const item of diff.added || []) row("added", item);
  for (const item of diff.removed || []) row("removed", item);
  for (const item of diff.moved || []) row("moved", item);
  for (const item of diff.changed || []) {
    const changes = item.changes && item.changes.length ? item.changes : [{ property: "", old: "", new: "" }];
    for (const change of changes) row("changed", item, change.property, show(change.old), show(change.new));
  }
  if (!rows.length) return el("p", { className: "muted" }, labels.none);
  return el("table", { className: "cards-on-phone diff-table" },
    el("thead", {}, el("tr", {}, ...["changed", "element", "property", "old", "new"].map((k) => el("th", {}, labels[k])))),
    el("tbody", {}, rows));
}

async function start() {
  const app = document.getElementById("diff-app");
  if (!app) return;
  const { key, a, b } = app.dataset;
  const labels = JSON.parse(app.dataset.labels);
  const target = document.getElementById("diff-list");
  const result = await callApi("GET", modelUrl(key, `/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`));
  if (!result.ok) {
    target.replaceChildren(el("p", { className: "error-text" }, labels.failed + errorText(result)));
  } else {
    target.replaceChildren(list(result.data, labels));
  }
  const diff = result.ok ? result.data : {};
  try {
    await draw(document.getElementById("diff-newer"), key, b,
      { "diff-added": diff.added || [], "diff-changed": diff.changed || [], "diff-moved": diff.moved || [] });
    await draw(document.getElementById("diff-older"), key, a, { "diff-removed": diff.removed || [] });
  } catch (error) {
    target.prepend(el("p", { className: "error-text" }, labels.failed + error.message));
  }
  app.dataset.state = "ready";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
