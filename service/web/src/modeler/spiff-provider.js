// Properties-panel groups for what the engine reads: lanes name roles, user tasks name their form,
// timers are quoted expressions, conditions and scripts are Python (checked by the lint API).
import { h } from "@bpmn-io/properties-panel/preact";
import {
  SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";
import {
  TIMER_KINDS, getExtensionText, getSpiffProperty, literalOf, quoted, setExtensionText, setSpiffProperties,
  setTimer, timerDefinition, timerKind,
} from "./spiff-model.js";

const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const CYCLE = /^R\d*\/P(?!$)[\dYMWDTHS.]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function timerLiteralProblem(kind, literal, t) {
  if (!literal) return null;
  const ok = kind === "timeDate" ? DATE.test(literal) : kind === "timeCycle" ? CYCLE.test(literal) : DURATION.test(literal);
  if (ok) return null;
  return kind === "timeDate" ? t("Use a date such as 2026-12-01 or 2026-12-01T09:00+08:00")
    : kind === "timeCycle" ? t("Use a cycle such as R3/PT1H") : t("Use an ISO 8601 duration such as P5D or PT12H");
}

function textEntry(kind, { id, element, label, get, set, description, validate, rows }) {
  function Component(props) {
    const translate = useService("translate");
    const debounce = useService("debounceInput");
    const common = { id, element: props.element, label: translate(label), getValue: () => get(props.element),
      setValue: (value) => set(props.element, value), debounce,
      description: description ? translate(description) : undefined };
    if (kind === "area") return h(TextAreaEntry, { ...common, rows: rows || 4, monospace: true });
    return h(TextFieldEntry, { ...common, validate: validate ? (value) => validate(value, translate) : undefined });
  }
  return { id, element, component: Component, isEdited: kind === "area" ? isTextAreaEntryEdited : isTextFieldEntryEdited };
}

function selectEntry({ id, element, label, get, set, options }) {
  function Component(props) {
    const translate = useService("translate");
    return h(SelectEntry, { id, element: props.element, label: translate(label), getValue: () => get(props.element),
      setValue: (value) => set(props.element, value), getOptions: () => options(translate) });
  }
  return { id, element, component: Component, isEdited: isSelectEntryEdited };
}

export default function SpiffPropertiesProvider(propertiesPanel, injector, translate, config) {
  const context = config || {};
  const modeling = () => injector.get("modeling");
  const roleLabel = (role) => (context.lang === "en" ? role.en : `${role.zh}（${role.key}）`);

  function laneEntries(element) {
    return [selectEntry({
      id: "spiff-lane-role", element, label: "Role (lane)",
      get: (el) => getBusinessObject(el).name || "",
      set: (el, value) => modeling().updateProperties(el, { name: value }),
      options: (t) => {
        const known = (context.roles || []).map((role) => ({ value: role.key, label: roleLabel(role) }));
        const current = getBusinessObject(element).name;
        const extra = current && !known.some((o) => o.value === current) ? [{ value: current, label: `${current} ⚠` }] : [];
        return [{ value: "", label: t("(choose a role)") }, ...extra, ...known];
      },
    })];
  }

  function formEntries(element) {
    const forms = Object.keys(context.forms ? context.forms() : {});
    const schemas = forms.filter((name) => name.endsWith(".schema.json"));
    return [
      selectEntry({
        id: "spiff-form", element, label: "Form",
        get: (el) => getSpiffProperty(el, "formJsonSchemaFilename"),
        set: (el, value) => {
          const ui = value ? value.replace(/\.schema\.json$/, ".uischema.json") : "";
          setSpiffProperties(injector, el, { formJsonSchemaFilename: value,
            formUiSchemaFilename: forms.includes(ui) ? ui : "" });
        },
        options: (t) => {
          const current = getSpiffProperty(element, "formJsonSchemaFilename");
          const names = current && !schemas.includes(current) ? [current, ...schemas] : schemas;
          return [{ value: "", label: t("(no form)") }, ...names.map((name) => ({ value: name, label: name }))];
        },
      }),
      textEntry("field", { id: "spiff-assignee", element, label: "Assignee variable",
        description: "A task-data variable holding the username this step is offered to (optional)",
        get: (el) => getSpiffProperty(el, "assigneeVariable"),
        set: (el, value) => setSpiffProperties(injector, el, { assigneeVariable: value }) }),
      textEntry("area", { id: "spiff-instructions", element, label: "Instructions for the user",
        get: (el) => getExtensionText(el, "instructionsForEndUser"),
        set: (el, value) => setExtensionText(injector, el, "instructionsForEndUser", value) }),
    ];
  }

  function scriptEntries(element) {
    const entries = [];
    if (is(element, "bpmn:ScriptTask")) {
      entries.push(textEntry("area", { id: "spiff-script", element, label: "Script (Python)", rows: 8,
        get: (el) => getBusinessObject(el).script || "",
        set: (el, value) => modeling().updateProperties(el, { script: value || undefined }) }));
    }
    entries.push(
      textEntry("area", { id: "spiff-prescript", element, label: "Pre-script (Python, when the step opens)",
        get: (el) => getExtensionText(el, "preScript"), set: (el, value) => setExtensionText(injector, el, "preScript", value) }),
      textEntry("area", { id: "spiff-postscript", element, label: "Post-script (Python, when the step is done)",
        get: (el) => getExtensionText(el, "postScript"), set: (el, value) => setExtensionText(injector, el, "postScript", value) }),
    );
    return entries;
  }

  function conditionEntries(element) {
    const setCondition = (el, value) => {
      const bo = getBusinessObject(el);
      if (!value) return modeling().updateProperties(el, { conditionExpression: undefined });
      if (bo.conditionExpression) return modeling().updateModdleProperties(el, bo.conditionExpression, { body: value });
      const expression = injector.get("bpmnFactory").create("bpmn:FormalExpression", { body: value });
      return modeling().updateProperties(el, { conditionExpression: expression });
    };
    return [textEntry("area", { id: "spiff-condition", element, label: "Condition (Python expression)", rows: 2,
      description: "e.g. decision == \"approve\"",
      get: (el) => (getBusinessObject(el).conditionExpression || {}).body || "", set: setCondition })];
  }

  function timerEntries(element) {
    return [
      selectEntry({ id: "spiff-timer-kind", element, label: "Timer type",
        get: (el) => timerKind(timerDefinition(el)),
        set: (el, kind) => {
          const current = timerDefinition(el);
          const old = current.get(timerKind(current));
          setTimer(injector, el, kind, old ? old.body : "");
        },
        options: (t) => [{ value: "", label: t("(none)") },
          ...TIMER_KINDS.map((kind) => ({ value: kind, label: t({ timeDuration: "Duration", timeDate: "Date",
            timeCycle: "Cycle" }[kind]) }))] }),
      textEntry("field", { id: "spiff-timer-literal", element, label: "Duration or date",
        description: "e.g. P5D (5 days), PT12H, 2026-12-01; saved as the quoted expression the engine needs",
        get: (el) => {
          const definition = timerDefinition(el);
          const value = definition.get(timerKind(definition));
          return (value && literalOf(value.body)) || "";
        },
        validate: (value, t) => timerLiteralProblem(timerKind(timerDefinition(element)) || "timeDuration", value, t),
        set: (el, value) => {
          const kind = timerKind(timerDefinition(el)) || "timeDuration";
          if (timerLiteralProblem(kind, value, (x) => x)) return;
          setTimer(injector, el, kind, value ? quoted(value) : "");
        } }),
      textEntry("field", { id: "spiff-timer-expression", element, label: "Timer expression (advanced)",
        description: "A Python expression, e.g. publicity_ends or f\"P{days}D\"",
        get: (el) => {
          const definition = timerDefinition(el);
          const value = definition.get(timerKind(definition));
          return (value && value.body) || "";
        },
        set: (el, value) => setTimer(injector, el, timerKind(timerDefinition(el)) || "timeDuration", value || "") }),
    ];
  }

  function decisionEntries(element) {
    return [selectEntry({ id: "spiff-decision", element, label: "Decision (DMN)",
      get: (el) => getExtensionText(el, "calledDecisionId"),
      set: (el, value) => setExtensionText(injector, el, "calledDecisionId", value),
      options: (t) => {
        const ids = context.decisions ? context.decisions() : [];
        const current = getExtensionText(element, "calledDecisionId");
        const all = current && !ids.includes(current) ? [current, ...ids] : ids;
        return [{ value: "", label: t("(none)") }, ...all.map((id) => ({ value: id, label: id }))];
      } })];
  }

  function messageEntries(element) {
    const entries = [];
    if (is(element, "bpmn:ReceiveTask") || is(element, "bpmn:CatchEvent")) {
      entries.push(textEntry("field", { id: "spiff-message-variable", element, label: "Message variable",
        description: "The task-data variable that receives the message's payload",
        get: (el) => getExtensionText(el, "messageVariable"),
        set: (el, value) => setExtensionText(injector, el, "messageVariable", value) }));
    }
    if (is(element, "bpmn:SendTask") || is(element, "bpmn:ThrowEvent")) {
      entries.push(textEntry("area", { id: "spiff-message-payload", element, label: "Message payload (Python expression)",
        get: (el) => getExtensionText(el, "messagePayload"),
        set: (el, value) => setExtensionText(injector, el, "messagePayload", value) }));
    }
    return entries;
  }

  function isMessageElement(element) {
    const bo = getBusinessObject(element);
    if (is(element, "bpmn:ReceiveTask") || is(element, "bpmn:SendTask")) return true;
    return (bo.get("eventDefinitions") || []).some((d) => is(d, "bpmn:MessageEventDefinition"));
  }

  function isConditional(element) {
    if (!is(element, "bpmn:SequenceFlow")) return false;
    const source = element.source;
    return !!(source && (is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway")
      || is(source, "bpmn:Activity")) || getBusinessObject(element).conditionExpression);
  }

  function group(id, label, entries) {
    return entries.length ? { id, label: translate(label), entries } : null;
  }

  this.getGroups = function getGroups(element) {
    return function addSpiffGroups(groups) {
      const extra = [];
      if (is(element, "bpmn:Lane")) extra.push(group("spiff-lane", "Role", laneEntries(element)));
      if (is(element, "bpmn:UserTask")) extra.push(group("spiff-form", "Form and instructions", formEntries(element)));
      if (is(element, "bpmn:Activity") && !is(element, "bpmn:SubProcess")) {
        extra.push(group("spiff-scripts", "Scripts", scriptEntries(element)));
      }
      if (is(element, "bpmn:BusinessRuleTask")) extra.push(group("spiff-decision", "Decision", decisionEntries(element)));
      if (isConditional(element)) extra.push(group("spiff-condition", "Condition", conditionEntries(element)));
      if (is(element, "bpmn:Event") && timerDefinition(element)) extra.push(group("spiff-timer", "Timer", timerEntries(element)));
      if (isMessageElement(element)) extra.push(group("spiff-message", "Message", messageEntries(element)));
      // the stock timer group writes unquoted values (P5D), which the engine cannot evaluate
      const kept = groups.filter((g) => g.id !== "timer");
      const general = kept.findIndex((g) => g.id === "general");
      kept.splice(general + 1, 0, ...extra.filter(Boolean));
      return kept;
    };
  };
  propertiesPanel.registerProvider(500, this);
}

SpiffPropertiesProvider.$inject = ["propertiesPanel", "injector", "translate", "config.spiff"];
