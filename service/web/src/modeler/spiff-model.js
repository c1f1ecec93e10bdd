// Reading and writing the Spiff extension elements of a BPMN element, as undoable commands.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export const SPIFF = "spiffworkflow";

export function extensionValues(bo) {
  const ext = bo.get("extensionElements");
  return ext ? ext.get("values") : [];
}

export function findExtension(element, type) {
  return extensionValues(getBusinessObject(element)).find((value) => value.$type === type);
}

/** The text of a body element such as <spiffworkflow:preScript>, or "". */
export function getExtensionText(element, localName) {
  const found = findExtension(element, `${SPIFF}:${localName}`);
  return (found && found.value) || "";
}

function extensionCommands(element, bo, bpmnFactory) {
  let ext = bo.get("extensionElements");
  const commands = [];
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  return { ext, commands };
}

function run(injector, commands) {
  if (commands.length) injector.get("commandStack").execute("properties-panel.multi-command-executor", commands);
}

/** Set (or, with an empty value, remove) a body element such as <spiffworkflow:postScript>. */
export function setExtensionText(injector, element, localName, value) {
  const bo = getBusinessObject(element);
  const type = `${SPIFF}:${localName}`;
  const { ext, commands } = extensionCommands(element, bo, injector.get("bpmnFactory"));
  const values = ext.get("values");
  const item = values.find((v) => v.$type === type);
  if (!value) {
    if (item) commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: ext, properties: { values: values.filter((v) => v !== item) } } });
  } else if (item) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: item, properties: { value } } });
  } else {
    const created = injector.get("bpmnFactory").create(type, { value });
    created.$parent = ext;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: ext, properties: { values: [...values, created] } } });
  }
  run(injector, commands);
}

/** <spiffworkflow:properties><spiffworkflow:property name value/>: the value of one property. */
export function getSpiffProperty(element, name) {
  const holder = findExtension(element, `${SPIFF}:properties`);
  const found = holder && (holder.get("properties") || []).find((p) => p.name === name);
  return (found && found.value) || "";
}

export function setSpiffProperties(injector, element, changes) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get("bpmnFactory");
  const { ext, commands } = extensionCommands(element, bo, bpmnFactory);
  let holder = ext.get("values").find((v) => v.$type === `${SPIFF}:properties`);
  if (!holder) {
    holder = bpmnFactory.create(`${SPIFF}:properties`, { properties: [] });
    holder.$parent = ext;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: ext, properties: { values: [...ext.get("values"), holder] } } });
  }
  let list = [...(holder.get("properties") || [])];
  for (const [name, value] of Object.entries(changes)) {
    const found = list.find((p) => p.name === name);
    if (!value) {
      list = list.filter((p) => p !== found);
    } else if (found) {
      commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: found, properties: { value } } });
    } else {
      const created = bpmnFactory.create(`${SPIFF}:property`, { name, value });
      created.$parent = holder;
      list.push(created);
    }
  }
  commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: holder, properties: { properties: list } } });
  run(injector, commands);
}

/** The timer definition of an event, or undefined. */
export function timerDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

export const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

export function timerKind(definition) {
  return TIMER_KINDS.find((kind) => definition.get(kind)) || "";
}

/** A quoted string literal ("P5D" or 'P5D') as its content; anything else (an expression) as null. */
export function literalOf(expression) {
  const text = (expression || "").trim();
  const match = /^(["'])([^"'\\]*)\1$/.exec(text);
  return match ? match[2] : null;
}

/** The engine evaluates timer values as Python: a duration or a date is written as a quoted string. */
export function quoted(literal) {
  return `"${literal.trim().replace(/["\\]/g, "")}"`;
}

export function setTimer(injector, element, kind, expression) {
  const definition = timerDefinition(element);
  if (!definition) return;
  const properties = {};
  for (const other of TIMER_KINDS) if (other !== kind && definition.get(other)) properties[other] = undefined;
  if (kind) {
    const body = injector.get("bpmnFactory").create("bpmn:FormalExpression", { body: expression });
    body.$parent = definition;
    properties[kind] = body;
  }
  injector.get("modeling").updateModdleProperties(element, definition, properties);
}

// Spiff names a multi-instance task's input and output collections by task-data variable name
// (<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>), not by the id of a data element, so
// bpmn-moddle cannot resolve them and would drop them on export. After an import each such reference
// is put back as a stand-in with that id: saveXML then writes the name exactly as it was.
const NAME_REFERENCES = new Set(["bpmn:loopDataInputRef", "bpmn:loopDataOutputRef"]);

export function restoreNameReferences(modeler, warnings) {
  const moddle = modeler.get("moddle");
  let restored = 0;
  for (const warning of warnings || []) {
    const { element, property, value } = warning;
    if (!element || !NAME_REFERENCES.has(property) || !value) continue;
    const local = property.split(":")[1];
    if (element.get(local)) continue;
    element.set(local, moddle.create("bpmn:DataInput", { id: value }));
    restored += 1;
  }
  return restored;
}

/** Import into a modeler, keeping Spiff's variable-name references (see above). */
export async function importDiagram(modeler, xml) {
  const result = await modeler.importXML(xml);
  restoreNameReferences(modeler, result.warnings);
  // unknown Spiff attributes (spiffworkflow:scriptsOnInstances) are kept as they are by moddle
  const warnings = result.warnings.filter((w) => !(NAME_REFERENCES.has(w.property) && w.element)
    && !/^unknown attribute <spiffworkflow:/.test(w.message));
  return { warnings };
}
