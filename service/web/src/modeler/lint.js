// The lint API's problems on the diagram: a marker and an overlay with the message on each element,
// and a list beside the diagram (element id, line, message). Errors block saving.
import { callApi, el, localized, modelUrl, pick } from "./api.js";

const MARKERS = ["lint-error", "lint-warning"];

export class LintView {
  constructor(modeler, listElement, statusElement) {
    this.modeler = modeler;
    this.list = listElement;
    this.status = statusElement;
    this.marked = [];
    this.problems = [];
    this.available = true;
  }

  get errors() {
    return this.problems.filter((p) => p.severity !== "warning");
  }

  async run(key, payload) {
    const result = await callApi("POST", modelUrl(key, "/lint"), payload);
    if (result.status === 404 || result.status === 405) {
      this.available = false;
      this.show([]);
      this.status.textContent = pick("检查服务不可用：保存时由服务器检查。", "Lint is unavailable: the server checks on save.");
      return null;
    }
    if (!result.ok) {
      this.status.textContent = pick("检查失败：", "Lint failed: ") + (result.status || "");
      return null;
    }
    this.available = true;
    this.show(result.data.problems || []);
    return this.problems;
  }

  clear() {
    const canvas = this.modeler.get("canvas");
    for (const id of this.marked) for (const marker of MARKERS) canvas.removeMarker(id, marker);
    this.modeler.get("overlays").remove({ type: "lint" });
    this.marked = [];
  }

  show(problems) {
    this.clear();
    this.problems = problems;
    const registry = this.modeler.get("elementRegistry");
    const canvas = this.modeler.get("canvas");
    const overlays = this.modeler.get("overlays");
    const messages = {};
    for (const problem of problems) {
      const element = problem.element_id && registry.get(problem.element_id);
      if (!element || element.type === "label") continue;
      canvas.addMarker(element.id, problem.severity === "warning" ? "lint-warning" : "lint-error");
      this.marked.push(element.id);
      (messages[element.id] = messages[element.id] || []).push(problem);
    }
    for (const [id, list] of Object.entries(messages)) {
      const error = list.some((p) => p.severity !== "warning");
      const html = el("div", { className: `lint-overlay ${error ? "is-error" : "is-warning"}`, "data-lint-for": id },
        list.map((p) => el("div", {}, localized(p.message))));
      const element = registry.get(id);
      const position = element.waypoints ? { top: -8, left: 0 } : { bottom: -6, left: 0 };
      overlays.add(id, "lint", { position, html, scale: { min: 0.5 } });
    }
    this.renderList(problems);
    const errors = this.errors.length;
    const warnings = problems.length - errors;
    this.status.textContent = errors || warnings
      ? pick(`${errors} 个错误，${warnings} 个警告`, `${errors} error(s), ${warnings} warning(s)`)
      : pick("检查通过", "No problems");
    this.status.className = `lint-status ${errors ? "has-errors" : "is-clean"}`;
  }

  renderList(problems) {
    this.list.replaceChildren();
    if (!problems.length) {
      this.list.append(el("p", { className: "muted" }, pick("没有发现问题。", "No problems found.")));
      return;
    }
    const rows = problems.map((p) => el("tr", { className: `problem-${p.severity || "error"}`, "data-element": p.element_id || "" },
      el("td", { "data-label": pick("级别", "Severity") }, p.severity === "warning" ? pick("警告", "Warning") : pick("错误", "Error")),
      el("td", { "data-label": pick("元素", "Element") }, p.element_id
        ? el("a", { href: "#", onclick: (event) => { event.preventDefault(); this.focus(p.element_id); } }, p.element_id) : "—"),
      el("td", { "data-label": pick("行", "Line") }, p.line ?? "—"),
      el("td", { "data-label": pick("问题", "Problem") }, localized(p.message))));
    this.list.append(el("table", { className: "cards-on-phone problems-table" },
      el("thead", {}, el("tr", {}, el("th", {}, pick("级别", "Severity")), el("th", {}, pick("元素", "Element")),
        el("th", {}, pick("行", "Line")), el("th", {}, pick("问题", "Problem")))),
      el("tbody", {}, rows)));
  }

  focus(id) {
    const element = this.modeler.get("elementRegistry").get(id);
    if (!element) return;
    this.modeler.get("selection").select(element);
    this.modeler.get("canvas").scrollToElement(element);
  }
}
