// The JSON API with the browser session: same-origin cookie plus the session's CSRF token in a header
// (the page puts it in <meta name="api-csrf-token">; service.api checks it for unsafe methods).

export const LANG = (document.documentElement.lang || "zh").startsWith("en") ? "en" : "zh";

/** "中文 / English" messages from the server: the half for the page's language. */
export function localized(text) {
  if (!text) return "";
  const at = text.indexOf(" / ");
  if (at < 0) return text;
  return LANG === "en" ? text.slice(at + 3) : text.slice(0, at);
}

export function pick(zh, en) {
  return LANG === "en" ? en : zh;
}

function csrfToken() {
  const meta = document.querySelector('meta[name="api-csrf-token"]');
  return meta ? meta.content : "";
}

export function modelUrl(key, rest = "") {
  return `/api/v1/process-models/${encodeURIComponent(key)}${rest}`;
}

/** {ok, status, data} — never throws for an HTTP error; data is the JSON body (or null). */
export async function callApi(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  try {
    data = type.includes("json") ? await response.json() : await response.text();
  } catch (error) {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

export function errorText(result) {
  const error = result.data && result.data.error;
  if (error) {
    const details = (error.details || []).map((d) => `${d.element_id ? `${d.element_id}: ` : ""}${localized(d.message)}`);
    return [localized(error.message) || error.code, ...details].join("\n");
  }
  return result.status ? `HTTP ${result.status}` : pick("无法连接服务器", "The server cannot be reached");
}

export function debounce(fn, wait) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
