// The errors view: tracks whose last job failed, with the message, requeued one by one or
// all at once through the api's errors routes.

import { getJson, request } from "./api.js";
import { showError, showInfo } from "./notice.js";

const LIMIT = 500;

export class ErrorsView {
  constructor() {
    this.list = document.getElementById("error-list");
    this.summary = document.getElementById("errors-summary");
    this.count = document.getElementById("error-count");
    this.requeueAll = document.getElementById("requeue-all");
    this.requeueAll.addEventListener("click", () => this.requeue(null));
    this.list.addEventListener("click", (event) => {
      const target = event.target.closest("button[data-track-id]");
      if (target) this.requeue(Number(target.dataset.trackId));
    });
  }

  // Re-read soon, once, however many events arrive meanwhile.
  loadSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), 500);
  }

  async load() {
    let page;
    try {
      page = await getJson(`/errors?limit=${LIMIT}`);
    } catch (error) {
      showError(`Could not load the tracks in error: ${error.message}`);
      return;
    }
    this.count.textContent = page.total ? String(page.total) : "";
    this.requeueAll.disabled = page.total === 0;
    this.summary.textContent = page.total
      ? `${page.total} track${page.total === 1 ? "" : "s"} in error.`
      : "No track is in error.";
    this.list.replaceChildren(...page.items.map((track) => this.item(track)));
  }

  item(track) {
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.trackId = String(track.id);
    const heading = document.createElement("h3");
    heading.textContent = track.title;
    const path = document.createElement("p");
    path.className = "file-path";
    path.textContent = track.file_path;
    const message = document.createElement("p");
    message.className = "error-text";
    const error = track.last_error;
    message.textContent = error
      ? `${error.job_name} failed at ${new Date(error.timestamp).toLocaleString()}: ${error.error_message}`
      : "Failed (no message recorded).";
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.trackId = String(track.id);
    button.textContent = "Requeue";
    button.setAttribute("aria-label", `Requeue ${track.title}`);
    li.append(heading, path, message, button);
    return li;
  }

  async requeue(trackId) {
    try {
      if (trackId === null) {
        const summary = await request("POST", "/errors/requeue");
        showInfo(`Requeued ${summary.requeued.length} track(s) for analysis.`);
      } else {
        await request("POST", `/errors/${trackId}/requeue`);
        showInfo("Requeued for analysis.");
      }
    } catch (error) {
      showError(`Requeue failed: ${error.message}`);
    }
    await this.load();
  }
}
