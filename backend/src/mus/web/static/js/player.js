// The player: one <audio> element streaming from the api (the browser asks for byte
// ranges as it seeks), a queue taken from the page the track was started from, keyboard
// shortcuts, Media Session metadata, and the state saved through the player API.

import { API, formatDuration, getJson, mediaUrl, request, storedKey } from "./api.js";
import { showError } from "./notice.js";

const SAVE_EVERY_MS = 5000;
const ICONS = {
  play: "M7 4v16l13-8z",
  pause: "M6 4h4v16H6zM14 4h4v16h-4z",
  sound: "M4 9h4l5-4v14l-5-4H4zM16 8.5a5 5 0 0 1 0 7l-1.4-1.4a3 3 0 0 0 0-4.2z",
  muted: "M4 9h4l5-4v14l-5-4H4zM15 9.4l1.4-1.4 2.1 2.1 2.1-2.1 1.4 1.4-2.1 2.1 2.1 2.1-1.4 1.4-2.1-2.1-2.1 2.1-1.4-1.4 2.1-2.1z",
};

function setIcon(button, name) {
  button.querySelector("path").setAttribute("d", ICONS[name]);
}
const SEEK_STEP_S = 5;
const VOLUME_STEP = 0.05;

export class Player {
  constructor() {
    this.audio = document.getElementById("audio");
    this.playButton = document.getElementById("play");
    this.seek = document.getElementById("seek");
    this.volume = document.getElementById("volume");
    this.mute = document.getElementById("mute");
    this.elapsed = document.getElementById("elapsed");
    this.totalLabel = document.getElementById("total");
    this.queue = [];
    this.track = null;
    this.seeking = false;
    this.lastSaved = 0;
    this.wire();
  }

  wire() {
    const audio = this.audio;
    this.playButton.addEventListener("click", () => this.toggle());
    document.getElementById("prev").addEventListener("click", () => this.step(-1));
    document.getElementById("next").addEventListener("click", () => this.step(1));
    audio.addEventListener("play", () => this.showPlaying(true));
    audio.addEventListener("pause", () => {
      this.showPlaying(false);
      this.save();
    });
    audio.addEventListener("ended", () => this.step(1));
    audio.addEventListener("loadedmetadata", () => this.showTime());
    audio.addEventListener("durationchange", () => this.showTime());
    audio.addEventListener("timeupdate", () => {
      this.showTime();
      if (!audio.paused && Date.now() - this.lastSaved > SAVE_EVERY_MS) this.save();
    });
    audio.addEventListener("volumechange", () => {
      this.volume.value = String(audio.volume);
      this.mute.setAttribute("aria-pressed", String(audio.muted));
      this.mute.setAttribute("aria-label", audio.muted ? "Unmute" : "Mute");
      setIcon(this.mute, audio.muted ? "muted" : "sound");
    });
    audio.addEventListener("error", () => {
      if (!this.track) return;
      showError(`Cannot play “${this.track.title}”: the file could not be read or streamed.`);
    });
    this.seek.addEventListener("input", () => {
      this.seeking = true;
      this.elapsed.textContent = formatDuration(Number(this.seek.value), { position: true });
    });
    this.seek.addEventListener("change", () => {
      this.seeking = false;
      this.seekTo(Number(this.seek.value));
    });
    this.volume.addEventListener("input", () => {
      audio.volume = Number(this.volume.value);
      if (audio.muted && audio.volume > 0) audio.muted = false;
    });
    this.volume.addEventListener("change", () => this.save());
    this.mute.addEventListener("click", () => {
      audio.muted = !audio.muted;
      this.save();
    });
    document.addEventListener("keydown", (event) => this.onKey(event));
    window.addEventListener("pagehide", () => this.save(true));
    if ("mediaSession" in navigator) {
      const session = navigator.mediaSession;
      session.setActionHandler("play", () => this.audio.play());
      session.setActionHandler("pause", () => this.audio.pause());
      session.setActionHandler("previoustrack", () => this.step(-1));
      session.setActionHandler("nexttrack", () => this.step(1));
      session.setActionHandler("seekbackward", () => this.nudge(-SEEK_STEP_S));
      session.setActionHandler("seekforward", () => this.nudge(SEEK_STEP_S));
      session.setActionHandler("seekto", (details) => this.seekTo(details.seekTime));
    }
  }

  onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const typing =
      target instanceof HTMLInputElement ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement ||
      target.isContentEditable;
    if (typing || document.querySelector("dialog[open]")) return;
    const actions = {
      " ": () => this.toggle(),
      ArrowLeft: () => this.nudge(-SEEK_STEP_S),
      ArrowRight: () => this.nudge(SEEK_STEP_S),
      ArrowUp: () => this.changeVolume(VOLUME_STEP),
      ArrowDown: () => this.changeVolume(-VOLUME_STEP),
    };
    // Space on a focused button presses it: leave buttons their own meaning.
    if (event.key === " " && target instanceof HTMLButtonElement) return;
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  load(track, queue) {
    if (queue) this.queue = queue.slice();
    this.track = track;
    this.audio.src = mediaUrl(`/tracks/${track.id}/stream`);
    document.getElementById("now-title").textContent = track.title;
    document.getElementById("now-artist").textContent = track.artist || "Unknown artist";
    const cover = document.getElementById("now-cover");
    const blank = document.getElementById("now-cover-blank");
    cover.hidden = !track.has_cover;
    blank.hidden = track.has_cover;
    if (track.has_cover) cover.src = mediaUrl(`/tracks/${track.id}/covers/small`);
    document.title = `${track.title} · mus`;
    this.markCurrentRow();
    if ("mediaSession" in navigator) {
      const artwork = track.has_cover
        ? [
            { src: mediaUrl(`/tracks/${track.id}/covers/small`), sizes: "300x300", type: "image/webp" },
            { src: mediaUrl(`/tracks/${track.id}/covers/original`), type: "image/webp" },
          ]
        : [];
      navigator.mediaSession.metadata = new MediaMetadata({
        title: track.title,
        artist: track.artist || "",
        artwork,
      });
    }
  }

  async play(track, queue) {
    this.load(track, queue);
    this.save();
    try {
      await this.audio.play();
    } catch (error) {
      if (error.name !== "AbortError") showError(`Cannot play “${track.title}”: ${error.message}`);
    }
  }

  toggle() {
    if (!this.track) {
      if (this.queue.length) this.play(this.queue[0]);
      return;
    }
    if (this.audio.paused) this.audio.play().catch((error) => showError(`Cannot play: ${error.message}`));
    else this.audio.pause();
  }

  step(direction) {
    if (!this.track || !this.queue.length) return;
    const index = this.queue.findIndex((item) => item.id === this.track.id);
    const next = this.queue[index + direction];
    if (next) this.play(next);
    else if (direction > 0) this.audio.pause();
    else this.seekTo(0);
  }

  seekTo(seconds) {
    if (!this.track || !Number.isFinite(seconds)) return;
    const duration = Number.isFinite(this.audio.duration) ? this.audio.duration : seconds;
    this.audio.currentTime = Math.min(Math.max(0, seconds), duration);
    this.showTime();
    this.save();
  }

  nudge(seconds) {
    this.seekTo(this.audio.currentTime + seconds);
  }

  changeVolume(delta) {
    this.audio.volume = Math.min(1, Math.max(0, Math.round((this.audio.volume + delta) * 100) / 100));
    this.save();
  }

  showPlaying(playing) {
    setIcon(this.playButton, playing ? "pause" : "play");
    this.playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = playing ? "playing" : "paused";
  }

  showTime() {
    const audio = this.audio;
    const duration = Number.isFinite(audio.duration) ? audio.duration : this.track?.duration || 0;
    this.seek.max = String(duration || 0);
    if (!this.seeking) this.seek.value = String(audio.currentTime);
    const now = formatDuration(audio.currentTime, { position: true });
    this.elapsed.textContent = now;
    this.totalLabel.textContent = formatDuration(duration);
    this.seek.setAttribute("aria-valuetext", `${now} of ${formatDuration(duration)}`);
  }

  markCurrentRow() {
    for (const row of document.querySelectorAll("#track-rows tr")) {
      const current = this.track && Number(row.dataset.trackId) === this.track.id;
      row.classList.toggle("current", Boolean(current));
      if (current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  // Saved through the player API, so another browser (or a reload) picks it up.
  async save(leaving = false) {
    this.lastSaved = Date.now();
    const body = {
      current_track_id: this.track ? this.track.id : null,
      progress_seconds: Number.isFinite(this.audio.currentTime) ? this.audio.currentTime : 0,
      volume: this.audio.volume,
      is_muted: this.audio.muted,
    };
    if (leaving) {
      const headers = { "Content-Type": "application/json" };
      const key = storedKey();
      if (key) headers.Authorization = `Bearer ${key}`;
      fetch(`${API}/player/state`, { method: "PUT", headers, body: JSON.stringify(body), keepalive: true });
      return;
    }
    try {
      await request("PUT", "/player/state", body);
    } catch (error) {
      if (error.status === 422 && body.current_track_id !== null) return; // track deleted meanwhile
      showError(`Could not save the player state: ${error.message}`);
    }
  }

  // Back where the last session left off (paused: browsers only play after a gesture).
  async restore() {
    let saved;
    try {
      saved = await getJson("/player/state");
    } catch (error) {
      showError(`Could not read the player state: ${error.message}`);
      return;
    }
    this.audio.volume = saved.volume;
    this.audio.muted = saved.is_muted;
    if (saved.current_track_id === null) return;
    let track;
    try {
      track = await getJson(`/tracks/${saved.current_track_id}`);
    } catch {
      return; // deleted since: nothing to restore
    }
    this.load(track);
    const position = saved.progress_seconds;
    const apply = () => {
      this.audio.currentTime = position;
      this.showTime();
    };
    if (this.audio.readyState >= 1) apply();
    else this.audio.addEventListener("loadedmetadata", apply, { once: true });
  }

  // A track vanished or changed: keep the queue and the now-playing line honest.
  applyEvent(type, data) {
    if (type === "track_deleted") {
      this.queue = this.queue.filter((item) => item.id !== data.track_id);
      return;
    }
    const queued = this.queue.find((item) => item.id === data.track_id);
    if (queued) Object.assign(queued, { title: data.title, artist: data.artist, has_cover: data.has_cover });
    if (this.track && this.track.id === data.track_id) {
      Object.assign(this.track, { title: data.title, artist: data.artist });
      document.getElementById("now-title").textContent = data.title;
      document.getElementById("now-artist").textContent = data.artist || "Unknown artist";
    }
  }
}
