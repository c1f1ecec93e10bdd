// The version's DMN files in dmn-js (decision tables). Edits are read back with saveXML before a lint,
// a test run or a save, so the editor's content is what gets checked and deployed.
import DmnModeler from "dmn-js/lib/Modeler";
import { el, pick } from "./api.js";

export function decisionIds(dmnFiles) {
  const ids = [];
  for (const xml of Object.values(dmnFiles)) {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    for (const node of doc.getElementsByTagNameNS("*", "decision")) if (node.id) ids.push(node.id);
  }
  return ids;
}

export class DmnEditor {
  constructor(state, container, picker) {
    this.state = state;
    this.container = container;
    this.picker = picker;
    this.current = null;
    this.modeler = null;
    const files = Object.keys(state.dmn).sort();
    picker.replaceChildren(...files.map((name) => el("option", { value: name }, name)));
    if (!files.length) {
      container.append(el("p", { className: "muted" }, pick("此版本没有决策表。", "This version has no decision tables.")));
      picker.disabled = true;
    }
    picker.addEventListener("change", () => this.open(picker.value));
  }

  async show() {
    if (!this.picker.value || this.current) return;
    this.modeler = new DmnModeler({ container: this.container });
    await this.open(this.picker.value);
  }

  async open(name) {
    await this.flush();
    try {
      await this.modeler.importXML(this.state.dmn[name]);
      const table = this.modeler.getViews().find((view) => view.type === "decisionTable");
      if (table) await this.modeler.open(table);
      this.current = name;
    } catch (error) {
      this.container.replaceChildren(el("p", { className: "error-text" }, `${name}: ${error.message}`));
      this.current = null;
    }
  }

  async flush() {
    if (!this.modeler || !this.current) return;
    const { xml } = await this.modeler.saveXML({ format: true });
    this.state.dmn[this.current] = xml;
  }
}
