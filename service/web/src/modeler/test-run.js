// The test run: the dry-run API executes the edited process in memory with sample start data and
// answers per task; the path taken is highlighted and the final data shown. No real case is touched.
import { callApi, el, errorText, localized, modelUrl, pick } from "./api.js";

const PATH = "dry-path";
const WAITING = "dry-waiting";
const ERROR = "lint-error";

function errorLine(error) {
  if (typeof error === "string") return localized(error);
  const where = [error.element_id, error.line ? pick(`第 ${error.line} 行`, `line ${error.line}`) : ""].filter(Boolean);
  return `${where.length ? `${where.join(" ")}: ` : ""}${localized(error.message || JSON.stringify(error))}`;
}

export class TestRun {
  constructor(modeler, { data, answers, button, result }) {
    Object.assign(this, { modeler, dataArea: data, answersArea: answers, button, result });
    this.marked = [];
  }

  clear() {
    const canvas = this.modeler.get("canvas");
    for (const id of this.marked) {
      canvas.removeMarker(id, PATH);
      canvas.removeMarker(id, WAITING);
      canvas.removeMarker(id, ERROR);
    }
    this.marked = [];
  }

  parse(area, label) {
    try {
      const value = JSON.parse(area.value || "{}");
      if (value && typeof value === "object" && !Array.isArray(value)) return value;
    } catch (error) {
      // reported below
    }
    throw new Error(pick(`${label}不是 JSON 对象`, `${label} is not a JSON object`));
  }

  async run(key, payload) {
    let data;
    let answers;
    try {
      data = this.parse(this.dataArea, pick("启动数据", "The start data"));
      answers = this.parse(this.answersArea, pick("回答", "The answers"));
    } catch (error) {
      this.result.replaceChildren(el("p", { className: "error-text" }, error.message));
      return null;
    }
    this.button.disabled = true;
    const response = await callApi("POST", modelUrl(key, "/dry-run"), { ...payload, data, answers });
    this.button.disabled = false;
    if (!response.ok) {
      this.result.replaceChildren(el("p", { className: "error-text" }, errorText(response)));
      return null;
    }
    this.show(response.data);
    return response.data;
  }

  show(outcome) {
    this.clear();
    const registry = this.modeler.get("elementRegistry");
    const canvas = this.modeler.get("canvas");
    const mark = (id, marker) => {
      if (!registry.get(id)) return;
      canvas.addMarker(id, marker);
      this.marked.push(id);
    };
    (outcome.path || []).forEach((id) => mark(id, PATH));
    (outcome.waiting_at || []).forEach((id) => mark(id, WAITING));
    if (outcome.error && outcome.error.element_id) mark(outcome.error.element_id, ERROR);
    const name = (id) => {
      const element = registry.get(id);
      return element && element.businessObject.name ? `${element.businessObject.name} (${id})` : id;
    };
    const state = outcome.error ? pick("出错", "Error")
      : outcome.ended ? pick("已结束", "Ended") : pick("等待中", "Waiting");
    this.result.replaceChildren(
      el("dl", { className: "facts" },
        el("dt", {}, pick("结果", "Result")), el("dd", { className: "dry-state" }, state),
        el("dt", {}, pick("结局", "Outcome")), el("dd", {}, outcome.outcome ?? "—"),
        el("dt", {}, pick("停在", "Waiting at")), el("dd", {}, (outcome.waiting_at || []).map(name).join("，") || "—"),
        el("dt", {}, pick("经过", "Path")), el("dd", {}, (outcome.path || []).map(name).join(" → ") || "—")),
      outcome.error ? el("p", { className: "error-text dry-error" }, errorLine(outcome.error)) : "",
      el("h3", {}, pick("最终数据", "Final data")),
      el("pre", { className: "dry-data" }, JSON.stringify(outcome.data ?? {}, null, 2)));
  }
}
