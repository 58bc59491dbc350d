// The library table: one page of the list API at a time (so 20,000 tracks cost what 100
// do), searched as you type, sorted, and kept current by the event stream.

import { formatDuration, getJson, mediaUrl } from "./api.js";
import { showError } from "./notice.js";

export const PAGE_SIZE = 100;
const SEARCH_DELAY_MS = 200;
const REFRESH_DELAY_MS = 300;

export class Library {
  constructor(handlers) {
    this.handlers = handlers; // { play(track, tracks), edit(track), remove(track) }
    this.offset = 0;
    this.total = 0;
    this.tracks = [];
    this.sequence = 0;
    this.refreshTimer = null;
    this.searchTimer = null;
    this.rows = document.getElementById("track-rows");
    this.search = document.getElementById("search");
    this.sort = document.getElementById("sort");
    this.order = document.getElementById("order");
    this.summary = document.getElementById("summary");
    this.pageLabel = document.getElementById("page-label");
    this.prev = document.getElementById("prev-page");
    this.next = document.getElementById("next-page");
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.load(0), SEARCH_DELAY_MS);
    });
    this.sort.addEventListener("change", () => this.load(0));
    this.order.addEventListener("click", () => {
      const descending = this.order.getAttribute("aria-pressed") !== "true";
      this.order.setAttribute("aria-pressed", String(descending));
      this.order.textContent = descending ? "Descending" : "Ascending";
      this.load(0);
    });
    this.prev.addEventListener("click", () => this.load(Math.max(0, this.offset - PAGE_SIZE)));
    this.next.addEventListener("click", () => this.load(this.offset + PAGE_SIZE));
    this.rows.addEventListener("click", (event) => this.onRowClick(event));
  }

  query(offset) {
    const params = new URLSearchParams({
      offset: String(offset),
      limit: String(PAGE_SIZE),
      sort: this.sort.value,
      order: this.order.getAttribute("aria-pressed") === "true" ? "desc" : "asc",
    });
    const words = this.search.value.trim();
    if (words) params.set("q", words);
    return `/tracks?${params}`;
  }

  async load(offset = this.offset) {
    const mine = ++this.sequence;
    let page;
    try {
      page = await getJson(this.query(offset));
    } catch (error) {
      if (mine === this.sequence) showError(`Could not load the library: ${error.message}`);
      return;
    }
    if (mine !== this.sequence) return; // a newer search or page answered first
    if (page.items.length === 0 && page.total > 0 && offset > 0) {
      return this.load(Math.max(0, (Math.ceil(page.total / PAGE_SIZE) - 1) * PAGE_SIZE));
    }
    this.offset = offset;
    this.total = page.total;
    this.tracks = page.items;
    this.render();
  }

  // Reload the page soon, once, however many events arrive meanwhile.
  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.load(), REFRESH_DELAY_MS);
  }

  render() {
    const focused = document.activeElement;
    const focusKey = focused && focused.dataset ? focused.dataset.focusKey : undefined;
    const fragment = document.createDocumentFragment();
    for (const track of this.tracks) fragment.append(this.row(track));
    this.rows.replaceChildren(fragment);
    if (focusKey) this.rows.querySelector(`[data-focus-key="${focusKey}"]`)?.focus();
    const words = this.search.value.trim();
    const first = this.total ? this.offset + 1 : 0;
    const last = this.offset + this.tracks.length;
    const matching = words ? ` matching “${words}”` : "";
    this.summary.textContent = this.total
      ? `${first}–${last} of ${this.total} tracks${matching}`
      : words
        ? `No track matches “${words}”.`
        : "The library is empty: copy audio files into the music folder, or upload some.";
    const pages = Math.max(1, Math.ceil(this.total / PAGE_SIZE));
    this.pageLabel.textContent = `Page ${Math.floor(this.offset / PAGE_SIZE) + 1} of ${pages}`;
    this.prev.disabled = this.offset === 0;
    this.next.disabled = last >= this.total;
    this.handlers.rendered?.();
  }

  row(track) {
    const tr = document.createElement("tr");
    tr.dataset.trackId = String(track.id);
    tr.dataset.status = track.processing_status;
    const cover = document.createElement("td");
    cover.className = "cover-cell";
    if (track.has_cover) {
      const img = document.createElement("img");
      img.className = "cover";
      img.loading = "lazy";
      img.width = 40;
      img.height = 40;
      img.alt = "";
      img.src = mediaUrl(`/tracks/${track.id}/covers/small?v=${track.revision}`);
      cover.append(img);
    } else {
      const blank = document.createElement("div");
      blank.className = "cover blank";
      blank.textContent = "♪";
      blank.setAttribute("aria-hidden", "true");
      cover.append(blank);
    }
    const title = document.createElement("td");
    title.className = "title";
    const play = button(track.title, `play-${track.id}`, "play");
    play.className = "link";
    play.setAttribute("aria-label", `Play ${track.title}`);
    title.append(play);
    const small = document.createElement("span");
    small.className = "file-path";
    small.textContent = track.file_path;
    title.append(small);
    const artist = cell(track.artist || "Unknown artist", "artist");
    const duration = cell(formatDuration(track.duration), "num duration");
    const status = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = `badge ${track.processing_status.toLowerCase()}`;
    badge.textContent = statusText(track.processing_status);
    if (track.last_error) badge.title = track.last_error.error_message;
    status.append(badge);
    const actions = document.createElement("td");
    actions.className = "actions";
    const edit = button("Edit", `edit-${track.id}`, "edit");
    edit.setAttribute("aria-label", `Edit ${track.title}`);
    const remove = button("Delete", `delete-${track.id}`, "delete");
    remove.setAttribute("aria-label", `Delete ${track.title}`);
    actions.append(edit, remove);
    tr.append(cover, title, artist, duration, status, actions);
    return tr;
  }

  onRowClick(event) {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const id = Number(target.closest("tr").dataset.trackId);
    const track = this.tracks.find((item) => item.id === id);
    if (!track) return;
    if (target.dataset.action === "play") this.handlers.play(track, this.tracks);
    if (target.dataset.action === "edit") this.handlers.edit(track);
    if (target.dataset.action === "delete") this.handlers.remove(track);
  }

  // An event names a track: show what it says at once, then re-read the page in order.
  applyEvent(type, data) {
    const index = this.tracks.findIndex((item) => item.id === data.track_id);
    if (type === "track_deleted") {
      if (index >= 0) {
        this.tracks.splice(index, 1);
        this.total = Math.max(0, this.total - 1);
        this.render();
      }
    } else if (index >= 0 && (type === "track_updated" || type === "track_error")) {
      const track = this.tracks[index];
      Object.assign(track, {
        title: data.title,
        artist: data.artist,
        file_path: data.file_path,
        has_cover: data.has_cover,
        processing_status: data.processing_status,
      });
      if (data.last_error) track.last_error = data.last_error;
      this.render();
    }
    this.refreshSoon();
  }
}

export function statusText(status) {
  return { PENDING: "Pending", COMPLETE: "Ready", ERROR: "Error" }[status] || status;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  return td;
}

function button(text, focusKey, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.dataset.focusKey = focusKey;
  element.dataset.action = action;
  return element;
}
