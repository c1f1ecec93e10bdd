// The version list's roll back: the old version's BPMN, decisions and forms deployed again as a new version.
import { callApi, errorText, modelUrl } from "./api.js";

async function rollBack(key, button, status) {
  if (!window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  const old = await callApi("GET", modelUrl(key, `/versions/${button.dataset.rollback}`));
  let result = old;
  if (old.ok) {
    const { bpmn, dmn, forms } = old.data;
    result = await callApi("POST", modelUrl(key, "/versions"), { bpmn, dmn, forms, comment: button.dataset.comment });
  }
  status.hidden = false;
  if (result.ok) {
    status.className = "flash flash-success";
    status.textContent = status.dataset.done.replace("{n}", result.data.version);
    window.location.reload();
  } else {
    status.className = "flash flash-error";
    status.textContent = status.dataset.failed + errorText(result);
    button.disabled = false;
  }
}

function start() {
  const script = document.currentScript || document.querySelector("script[data-key]");
  const key = script.dataset.key;
  const status = document.getElementById("rollback-status");
  for (const button of document.querySelectorAll("[data-rollback]")) {
    button.addEventListener("click", () => rollBack(key, button, status));
  }
}

start();
