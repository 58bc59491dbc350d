// The HTTP API as the pages use it: the optional key kept in this browser, sent as a
// Bearer header; `?token=` only where the browser cannot send headers (<audio>, <img>,
// EventSource). Every failure becomes an ApiError whose message is a sentence.

export const API = "/api/v1";
const KEY_STORAGE = "mus.secret_key";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function storedKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function storeKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function authHeaders() {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// A URL for <audio>, <img> or EventSource: the key rides as ?token= when one is set.
export function mediaUrl(path) {
  const key = storedKey();
  if (!key) return API + path;
  const separator = path.includes("?") ? "&" : "?";
  return `${API}${path}${separator}token=${encodeURIComponent(key)}`;
}

// mus says what went wrong in `detail` (a sentence); a validation error adds `errors`, each
// with where (`loc`) and why (`msg`), which reads better without the request part's name.
export function describeFailure(status, body) {
  const issues = body && (Array.isArray(body.errors) ? body.errors : body.detail);
  if (Array.isArray(issues)) {
    return issues
      .map((item) => {
        const where = (item.loc || [])
          .filter((part) => !["body", "query", "path"].includes(part))
          .join(".");
        return where ? `${where}: ${item.msg}` : item.msg;
      })
      .join("; ");
  }
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (status === 401) return "the server needs its key: sign in";
  if (status >= 500) return `the server failed (HTTP ${status}); its log says why`;
  return `the server answered HTTP ${status}`;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

export async function request(method, path, body) {
  const headers = { ...authHeaders() };
  const options = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, options);
  } catch {
    throw new ApiError("the server cannot be reached: is mus running?", 0);
  }
  const payload = await readBody(response);
  if (!response.ok) {
    throw new ApiError(describeFailure(response.status, payload), response.status);
  }
  return payload;
}

export const getJson = (path) => request("GET", path);

// Multipart upload with progress (fetch has no upload progress; XMLHttpRequest does).
export function upload(form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/tracks/upload`);
    const key = storedKey();
    if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let payload = null;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        payload = { detail: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(payload);
      else reject(new ApiError(describeFailure(xhr.status, payload), xhr.status));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError("the upload was cut off: the server cannot be reached", 0)),
    );
    xhr.send(form);
  });
}

// m:ss (h:mm:ss past an hour); a length is rounded (3.99 s is 0:04), a position floored.
export function formatDuration(seconds, { position = false } = {}) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const whole = Math.max(0, position ? Math.floor(seconds) : Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}
