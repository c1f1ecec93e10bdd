// bpmn-js rebuilds each plane's list of shapes and edges from what it drew when it saves (BpmnDiOrdering),
// so diagram elements it cannot draw (an edge without bpmnElement, a second shape for the same element)
// would silently disappear. This puts them back after the reordering: what was in the file stays in it.
import { getDi } from "bpmn-js/lib/util/ModelUtil";

export default function KeepUndrawnDi(eventBus, canvas) {
  let before = [];
  eventBus.on("saveXML.start", 3000, () => {
    before = canvas.getRootElements().map((root) => getDi(root)).filter((di) => di && di.get)
      .map((di) => [di, [...(di.get("planeElement") || [])]]);
  });
  eventBus.on("saveXML.start", 1000, () => {
    for (const [di, old] of before) {
      const now = di.get("planeElement");
      const kept = new Set(now);
      for (const item of old) if (!kept.has(item)) now.push(item);
    }
    before = [];
  });
}

KeepUndrawnDi.$inject = ["eventBus", "canvas"];

export const keepDiModule = { __init__: ["keepUndrawnDi"], keepUndrawnDi: ["type", KeepUndrawnDi] };
