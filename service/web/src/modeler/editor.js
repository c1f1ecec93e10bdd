// The modeler page (/admin/models/<key>/edit): bpmn-js Modeler with the properties panel and our Spiff
// entries, lint markers, save = deploy a new version, export, DMN and form editors, and the test run.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "dmn-js/dist/assets/dmn-js-shared.css";
import "dmn-js/dist/assets/dmn-js-decision-table.css";
import "dmn-js/dist/assets/dmn-js-decision-table-controls.css";
import "dmn-js/dist/assets/dmn-js-drd.css";
import "dmn-js/dist/assets/dmn-js-literal-expression.css";
import "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css";
import "./modeler.css";
import spiffDescriptor from "./spiffworkflow.json";
import SpiffPropertiesProvider from "./spiff-provider.js";
import { importDiagram } from "./spiff-model.js";
import { keepDiModule } from "./keep-di.js";
import { translateModule } from "./translate-zh.js";
import { LANG, callApi, debounce, errorText, modelUrl, pick } from "./api.js";
import { LintView } from "./lint.js";
import { DmnEditor, decisionIds } from "./dmn-editor.js";
import { FormEditor } from "./form-editor.js";
import { TestRun } from "./test-run.js";

const spiffModule = { __init__: ["spiffPropertiesProvider"], spiffPropertiesProvider: ["type", SpiffPropertiesProvider] };

// the groups an admin edits most start open
const OPEN_GROUPS = Object.fromEntries(["general", "spiff-lane", "spiff-form", "spiff-scripts", "spiff-decision",
  "spiff-condition", "spiff-timer", "spiff-message"].map((id) => [id, { open: true }]));

function byId(id) {
  return document.getElementById(id);
}

export function createModeler(container, panel, context) {
  return new BpmnModeler({
    container,
    propertiesPanel: panel ? { parent: panel, layout: { groups: OPEN_GROUPS } } : undefined,
    keyboard: { bindTo: document },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, spiffModule, keepDiModule,
      translateModule(LANG)],
    moddleExtensions: { spiffworkflow: spiffDescriptor },
    spiff: context,
  });
}

function setUpTabs(onShow) {
  const tabs = document.querySelectorAll(".modeler-tabs [data-tab]");
  for (const tab of tabs) {
    tab.addEventListener("click", () => {
      for (const other of tabs) other.setAttribute("aria-selected", String(other === tab));
      for (const panel of document.querySelectorAll(".modeler-tab")) panel.hidden = panel.dataset.panel !== tab.dataset.tab;
      onShow(tab.dataset.tab);
    });
  }
}

async function start() {
  const source = byId("modeler-data");
  if (!source) return;
  const page = JSON.parse(source.textContent);
  const state = { dmn: { ...page.version.dmn }, forms: { ...page.version.forms }, onChange: () => {} };
  const modeler = createModeler(byId("bpmn-canvas"), byId("bpmn-properties"), {
    lang: LANG, roles: page.roles, forms: () => state.forms, decisions: () => decisionIds(state.dmn),
  });
  const status = byId("lint-status");
  const lint = new LintView(modeler, byId("lint-problems"), status);
  const dmn = new DmnEditor(state, byId("dmn-canvas"), byId("dmn-file"));
  const testRun = new TestRun(modeler, { data: byId("test-data"), answers: byId("test-answers"),
    button: byId("test-run"), result: byId("test-result") });

  async function payload() {
    await dmn.flush();
    const { xml } = await modeler.saveXML({ format: true });
    return { bpmn: xml, dmn: state.dmn, forms: state.forms };
  }

  const relint = debounce(async () => lint.run(page.key, await payload()), 800);
  state.onChange = relint;
  const forms = new FormEditor(state, { picker: byId("form-file"), schema: byId("form-schema"),
    uiSchema: byId("form-uischema"), preview: byId("form-preview"), error: byId("form-error"),
    create: byId("form-new") }, LANG);

  async function save() {
    const body = await payload();
    const problems = await lint.run(page.key, body);
    if (problems && lint.errors.length) {
      status.textContent = pick(`有 ${lint.errors.length} 个错误，不能保存。请先修改标红的元素。`,
        `${lint.errors.length} error(s): fix the elements marked in red before saving.`);
      return { saved: false, reason: "lint" };
    }
    const comment = window.prompt(pick("本次修改的说明（将记入版本列表）：", "What did you change? (shown in the version list)"), "");
    if (comment === null) return { saved: false, reason: "cancelled" };
    const result = await callApi("POST", modelUrl(page.key, "/versions"), { ...body, comment: comment.slice(0, 500) });
    if (result.status === 422 && result.data && result.data.error && result.data.error.code === "invalid_bpmn") {
      lint.show((result.data.error.details || []).map((d) => ({ ...d, severity: "error" })));
      status.textContent = pick("服务器拒绝部署：请修改标红的元素。", "The server refused the deployment: fix the marked elements.");
      return { saved: false, reason: "invalid" };
    }
    if (!result.ok) {
      status.textContent = pick("保存失败：", "Saving failed: ") + errorText(result);
      return { saved: false, reason: "error" };
    }
    const number = result.data.version;
    if (!result.data.created) {
      status.textContent = pick(`内容没有变化，仍是版本 ${number}。`, `Nothing changed: still version ${number}.`);
      return { saved: false, reason: "unchanged", version: number };
    }
    status.textContent = pick(`已部署为版本 ${number}。`, `Deployed as version ${number}.`);
    window.location.assign(`${window.location.pathname}?version=${number}&saved=1`);
    return { saved: true, version: number };
  }

  async function exportXml() {
    const { xml } = await modeler.saveXML({ format: true });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
    link.download = `${page.key}-v${page.version.number}.bpmn`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  byId("modeler-save").addEventListener("click", save);
  byId("modeler-export").addEventListener("click", exportXml);
  byId("test-run").addEventListener("click", async () => testRun.run(page.key, await payload()));
  setUpTabs((tab) => {
    if (tab === "dmn") dmn.show();
    if (tab === "bpmn") modeler.get("canvas").resized();
  });

  try {
    const { warnings } = await importDiagram(modeler, page.version.bpmn);
    if (warnings.length) console.warn("import warnings", warnings);
    modeler.get("canvas").zoom("fit-viewport");
  } catch (error) {
    status.textContent = pick("流程图无法打开：", "The diagram cannot be opened: ") + error.message;
  }
  if (new URLSearchParams(window.location.search).get("saved")) {
    const saved = byId("save-status");
    saved.textContent = pick(`已部署为版本 ${page.version.number}。新发起的案件按此版本办理，进行中的案件仍按原版本。`,
      `Deployed as version ${page.version.number}. New cases follow it; running cases stay on their version.`);
    saved.hidden = false;
  }
  modeler.on("commandStack.changed", relint);
  lint.run(page.key, await payload());
  // for tests and the curious: the page's parts
  window.dangjianModeler = { modeler, lint, save, exportXml, payload, testRun, forms, dmn, state,
    importXML: (xml) => importDiagram(modeler, xml) };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
