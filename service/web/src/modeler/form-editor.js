// The form editor: a form's JSON Schema and UI schema side by side, and a live preview drawn by the
// inbox's own renderer (the task-form.js bundle, in a frame) so admins see exactly what approvers get.
import { debounce, el, pick } from "./api.js";

const STYLE_URL = "/static/app.css";
const RENDERER_URL = "/static/dist/task-form.js";

function escapeAttr(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export function previewDocument(schema, uiSchema, lang) {
  const attr = (value) => escapeAttr(JSON.stringify(value));
  return `<!doctype html><html lang="${lang === "en" ? "en" : "zh-CN"}"><head><meta charset="utf-8">
<link rel="stylesheet" href="${STYLE_URL}"></head><body><main>
<div class="task-form" data-task-form data-target="preview-submit" data-lang="${lang === "en" ? "en" : "zh_CN"}"
 data-schema="${attr(schema)}" data-ui-schema="${attr(uiSchema)}" data-form-data="{}" data-errors="[]"></div>
<form id="preview-submit" method="get" action="about:blank" target="preview-sink" hidden
 data-labels="${attr({ submit: lang === "en" ? "Submit (preview)" : "提交（预览）" })}">
<input type="hidden" name="data"><input type="hidden" name="intent"></form>
<iframe name="preview-sink" hidden></iframe>
<script src="${RENDERER_URL}"></script></main></body></html>`;
}

export class FormEditor {
  constructor(state, { picker, schema, uiSchema, preview, error, create }, lang) {
    this.state = state;
    this.lang = lang;
    Object.assign(this, { picker, schemaArea: schema, uiArea: uiSchema, preview, error });
    this.refreshPicker();
    picker.addEventListener("change", () => this.open(picker.value));
    const update = debounce(() => this.update(), 400);
    schema.addEventListener("input", update);
    uiSchema.addEventListener("input", update);
    create.addEventListener("click", () => this.create());
    if (picker.value) this.open(picker.value);
  }

  names() {
    return Object.keys(this.state.forms).filter((n) => n.endsWith(".schema.json")).sort();
  }

  refreshPicker(selected) {
    const names = this.names();
    this.picker.replaceChildren(...names.map((name) => el("option", { value: name }, name.replace(/\.schema\.json$/, ""))));
    if (selected) this.picker.value = selected;
  }

  uiName(name) {
    return name.replace(/\.schema\.json$/, ".uischema.json");
  }

  open(name) {
    this.current = name;
    this.schemaArea.value = JSON.stringify(this.state.forms[name] ?? {}, null, 2);
    this.uiArea.value = JSON.stringify(this.state.forms[this.uiName(name)] ?? {}, null, 2);
    this.error.textContent = "";
    this.render();
  }

  create() {
    const base = window.prompt(pick("新表单的文件名（英文字母、数字、下划线）：", "File name of the new form (letters, digits, _):"));
    if (!base || !/^[A-Za-z0-9_-]+$/.test(base)) return;
    const name = `${base}.schema.json`;
    if (!this.state.forms[name]) {
      this.state.forms[name] = { type: "object", title: base, properties: {} };
      this.state.forms[this.uiName(name)] = {};
    }
    this.refreshPicker(name);
    this.open(name);
    this.state.onChange();
  }

  update() {
    if (!this.current) return;
    try {
      const schema = JSON.parse(this.schemaArea.value);
      const uiSchema = JSON.parse(this.uiArea.value || "{}");
      this.state.forms[this.current] = schema;
      this.state.forms[this.uiName(this.current)] = uiSchema;
      this.error.textContent = "";
      this.render();
      this.state.onChange();
    } catch (error) {
      this.error.textContent = pick("JSON 格式错误：", "Invalid JSON: ") + error.message;
    }
  }

  render() {
    const schema = this.state.forms[this.current] ?? {};
    const uiSchema = this.state.forms[this.uiName(this.current)] ?? {};
    this.preview.srcdoc = previewDocument(schema, uiSchema, this.lang);
  }
}
