// The task form island: renders the task's JSON Schema form with @rjsf/core, validates it in the
// browser, and submits the data through the page's plain HTML form (which carries the CSRF token),
// so the server validates again and answers with a whole page.
import { createRoot } from "react-dom/client";
import { useState } from "react";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020";
import { localizeZh, translateZh } from "./messages-zh.js";

function readJson(element, name, fallback) {
  const text = element.getAttribute(name);
  if (!text) return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Server errors [{field: "a.b", message}] as rjsf's ErrorSchema {a: {b: {__errors: [...]}}}. */
export function toErrorSchema(problems) {
  const schema = {};
  for (const { field, message } of problems || []) {
    let node = schema;
    for (const part of (field || "").split(".").filter(Boolean)) {
      node = node[part] = node[part] || {};
    }
    (node.__errors = node.__errors || []).push(message);
  }
  return schema;
}

/** The title of the field an error is about, from the schema (errors carry paths like ".a.b"). */
function fieldTitle(schema, property) {
  let node = schema;
  for (const part of (property || "").split(".").filter(Boolean)) {
    node = node && node.properties ? node.properties[part] : undefined;
  }
  return node && node !== schema ? node.title || property.replace(/^\./, "") : "";
}

/** The error list above the form, in the same shape as the server's summary it replaces. */
function ErrorList({ errors, schema, registry }) {
  const heading = registry.formContext?.labels?.errors || registry.translateString("Errors");
  return (
    <div className="error-summary" role="alert">
      <b>{heading}</b>
      <ul>
        {errors.map((error, index) => {
          const title = error.title || fieldTitle(schema, error.property);
          return <li key={index}>{title ? `${title}：${error.message}` : error.message}</li>;
        })}
      </ul>
    </div>
  );
}

function TaskForm({ schema, uiSchema, initialData, serverErrors, lang, target }) {
  const [formData, setFormData] = useState(initialData);
  const [extraErrors, setExtraErrors] = useState(toErrorSchema(serverErrors));
  const zh = lang !== "en";
  const validator = customizeValidator({ AjvClass: Ajv2020 }, zh ? localizeZh : undefined);
  const labels = JSON.parse(target.dataset.labels || "{}");

  function post(action, data) {
    target.elements.namedItem("data").value = JSON.stringify(data ?? {});
    target.elements.namedItem("intent").value = action;
    target.submit();
  }

  return (
    <Form
      schema={schema}
      uiSchema={uiSchema}
      formData={formData}
      validator={validator}
      extraErrors={extraErrors}
      noHtml5Validate
      showErrorList="top"
      focusOnFirstError
      translateString={zh ? translateZh : undefined}
      templates={{ ErrorListTemplate: ErrorList }}
      formContext={{ labels }}
      onChange={(event) => {
        setFormData(event.formData);
        setExtraErrors(undefined); // the server's verdict was about the old values
      }}
      onSubmit={(event) => post("complete", event.formData)}
    >
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">{labels.submit || "提交"}</button>
        {labels.draft ? (
          <button type="button" className="btn" onClick={() => post("draft", formData)}>{labels.draft}</button>
        ) : null}
      </div>
    </Form>
  );
}

function mount(element) {
  const target = document.getElementById(element.dataset.target || "task-submit");
  if (!target) return;
  // the server's error summary is for pages without script; the form shows its own
  element.parentElement.querySelectorAll(":scope > .error-summary").forEach((summary) => summary.remove());
  createRoot(element).render(
    <TaskForm
      schema={readJson(element, "data-schema", {})}
      uiSchema={readJson(element, "data-ui-schema", {})}
      initialData={readJson(element, "data-form-data", {})}
      serverErrors={readJson(element, "data-errors", [])}
      lang={element.dataset.lang || document.documentElement.lang}
      target={target}
    />,
  );
}

document.querySelectorAll("[data-task-form]").forEach(mount);
