// The diagram island of the tracking pages: each `[data-diagram-url]` element shows its case's BPMN
// with bpmn-js's viewer (pan and zoom, no editing) and marks what the engine reports: elements
// completed, current (ready or waiting) and cancelled, and the sequence flows taken. A diagram inside
// a closed <details> is drawn when it is opened (bpmn-js needs a visible box to fit the view).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "./diagram-viewer.css";

const MARKERS = { completed: "dj-completed", current: "dj-current", cancelled: "dj-cancelled", flows: "dj-taken" };

function showProblem(container, text) {
  container.classList.add("diagram-failed");
  container.textContent = text;
}

// A whole process on a phone is too small to read: below this scale, centre on the current step at a
// readable zoom instead (the reader can still pan and zoom out).
const READABLE_SCALE = 0.6;

function focusOnCurrent(canvas, registry, currentIds) {
  const box = canvas.viewbox();
  const current = currentIds.map((id) => registry.get(id)).find((element) => element && element.width);
  if (!current || box.scale >= READABLE_SCALE) return;
  const width = box.outer.width / READABLE_SCALE;
  const height = box.outer.height / READABLE_SCALE;
  canvas.viewbox({
    x: current.x + current.width / 2 - width / 2,
    y: current.y + current.height / 2 - height / 2,
    width,
    height,
  });
}

export async function drawDiagram(container) {
  if (container.dataset.state) return;
  container.dataset.state = "loading";
  const failed = container.dataset.failedText || "Diagram unavailable";
  let marks;
  try {
    const response = await fetch(container.dataset.diagramUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    marks = await response.json();
  } catch (error) {
    showProblem(container, failed);
    container.dataset.state = "failed";
    return;
  }
  const viewer = new NavigatedViewer({ container });
  try {
    await viewer.importXML(marks.bpmn);
  } catch (error) {
    showProblem(container, failed);
    container.dataset.state = "failed";
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  for (const [key, marker] of Object.entries(MARKERS)) {
    for (const id of marks[key] || []) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  }
  canvas.zoom("fit-viewport", "auto");
  focusOnCurrent(canvas, registry, marks.current || []);
  container.dataset.state = "ready";
}

function start() {
  for (const container of document.querySelectorAll("[data-diagram-url]")) {
    const holder = container.closest("details");
    if (holder && !holder.open) {
      holder.addEventListener("toggle", () => holder.open && drawDiagram(container));
    } else {
      drawDiagram(container);
    }
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
