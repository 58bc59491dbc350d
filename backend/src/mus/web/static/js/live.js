// Follows the api's event stream (SSE). EventSource reconnects by itself after a network
// error; a stream the server closed for good (restart, refused key) is reopened here.
// The indicator says when live updates are down.

import { mediaUrl } from "./api.js";

const REOPEN_MS = 3000;
const EVENT_TYPES = ["track_added", "track_updated", "track_deleted", "track_error", "library_scanned"];

export function followEvents(onEvent, onReconnected) {
  const indicator = document.getElementById("live");
  let wasDown = false;
  let source = null;

  const setState = (state, text) => {
    indicator.dataset.state = state;
    indicator.textContent = text;
  };

  const open = () => {
    source = new EventSource(mediaUrl("/events/track-updates"));
    source.addEventListener("open", () => {
      setState("up", "Live");
      if (wasDown) onReconnected();
      wasDown = false;
    });
    source.addEventListener("error", () => {
      wasDown = true;
      setState("down", "Live updates down: reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(open, REOPEN_MS);
      }
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        let data = {};
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        onEvent(type, data);
      });
    }
  };
  open();
}
