// The operator's view at `/admin`: mus's own figures (broker, queues, workers, watcher,
// library, parity report) read every few seconds, beside streaq's own queue pages.

import { API, ApiError, describeFailure, getJson, storedKey } from "./api.js";
import { signedIn, wireSignOut } from "./login.js";
import { clearNotice, showError } from "./notice.js";

const REFRESH_MS = 3000;
const byId = (id) => document.getElementById(id);

function rows(tbody, records, cells) {
  tbody.replaceChildren(
    ...records.map((record) => {
      const tr = document.createElement("tr");
      cells(record).forEach((value, index) => {
        const td = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) td.scope = "row";
        else td.className = "num";
        td.textContent = value;
        tr.append(td);
      });
      return tr;
    }),
  );
}

const ms = (value) => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

function render(figures) {
  const broker = figures.broker;
  byId("broker-state").textContent = broker.reachable ? broker.product : "Unreachable";
  byId("broker-state").className = `big ${broker.problem ? "state-bad" : "state-ok"}`;
  byId("broker-detail").textContent = broker.problem ? `${broker.url}: ${broker.problem}` : broker.url;
  byId("version").textContent = figures.version;
  const watcher = { watching: "Watching", starting: "Starting", off: "Off" }[figures.watcher];
  byId("watcher-state").textContent = watcher;
  byId("watcher-state").className = `big ${figures.watcher === "watching" ? "state-ok" : "state-bad"}`;
  const counts = figures.tracks_by_status;
  const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
  byId("library-counts").textContent =
    `${total} tracks: ${counts.COMPLETE || 0} ready, ${counts.PENDING || 0} pending, ${counts.ERROR || 0} in error`;
  renderStorage(figures.storage);
  const queue = figures.queue;
  byId("queue-problem").textContent = figures.queue_problem ? `Queue figures unavailable: ${figures.queue_problem}` : "";
  byId("running").textContent = queue ? String(queue.running) : "–";
  byId("recent-failed").textContent = queue ? String(queue.recent_failed) : "–";
  byId("recent-finished").textContent = queue ? String(queue.recent_finished) : "–";
  rows(byId("queue-rows"), queue ? queue.queues : [], (depth) => [depth.queue, String(depth.waiting), String(depth.delayed)]);
  rows(byId("duration-rows"), queue ? queue.durations : [], (job) => [
    job.job,
    String(job.runs),
    String(job.failed),
    ms(job.mean_ms),
    ms(job.max_ms),
  ]);
  const workers = queue ? queue.workers : [];
  byId("worker-list").replaceChildren(
    ...workers.map((worker) => {
      const li = document.createElement("li");
      li.textContent = `${worker.worker_id}: ${worker.summary}`;
      return li;
    }),
  );
  byId("workers-none").hidden = workers.length > 0 || !queue;
}

function folderText(folder) {
  const free = folder.free_mb === null ? "not measurable" : `${folder.free_mb} MiB free of ${folder.total_mb}`;
  return folder.state === "ok" ? free : `${folder.state} (${free})`;
}

function renderStorage(storage) {
  const troubles = [storage.data, storage.music].filter((folder) => folder.state !== "ok").length;
  const bad = troubles > 0 || storage.database_busy;
  byId("storage-state").textContent = bad ? "Needs attention" : "OK";
  byId("storage-state").className = `big ${bad ? "state-bad" : "state-ok"}`;
  byId("data-folder").textContent = folderText(storage.data);
  byId("music-folder").textContent = folderText(storage.music);
  byId("database-lock").textContent = storage.database_busy
    ? "busy: another process holds it; writes wait and are retried"
    : "free";
}

let shownReport = null;

async function showParity(report) {
  const state = byId("parity-state");
  const frame = byId("parity-frame");
  if (!report.exists) {
    state.textContent = `No parity report yet at ${report.path} (make cutover-gate writes one; MUS_PARITY_REPORT_PATH says where to look).`;
    frame.hidden = true;
    shownReport = null;
    return;
  }
  const stamp = `${report.path}@${report.modified_at}`;
  state.textContent = `Written ${new Date(report.modified_at).toLocaleString()} at ${report.path}.`;
  if (stamp === shownReport) return;
  const key = storedKey();
  const response = await fetch(`${API}/admin/parity-report`, {
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
  if (!response.ok) {
    state.textContent = `The parity report could not be read: ${describeFailure(response.status, await response.json().catch(() => null))}`;
    return;
  }
  frame.srcdoc = await response.text();
  frame.hidden = false;
  shownReport = stamp;
}

async function refresh() {
  const indicator = byId("refreshed");
  try {
    const figures = await getJson("/admin/figures");
    render(figures);
    await showParity(figures.parity_report);
    clearNotice();
    indicator.dataset.state = "up";
    indicator.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    indicator.dataset.state = "down";
    indicator.textContent = "Figures out of date";
    showError(`Could not read the figures: ${error instanceof ApiError ? error.message : error}`);
  }
}

async function main() {
  try {
    await signedIn("/admin/figures");
  } catch (error) {
    showError(`The operator's view cannot start: ${error.message}`);
    return;
  }
  wireSignOut(byId("sign-out"));
  byId("show-streaq").addEventListener("click", () => {
    const frame = byId("streaq-frame");
    frame.src = "/admin/queue/queue";
    frame.hidden = false;
    byId("show-streaq").hidden = true;
  });
  await refresh();
  document.body.dataset.ready = "true";
  setInterval(refresh, REFRESH_MS);
}

main();
