// The page at `/`: sign in if the server wants its key, then the library, the player, the
// errors view and live updates, wired together.

import { storedKey } from "./api.js";
import { ErrorsView } from "./errors_view.js";
import { Library } from "./library.js";
import { followEvents } from "./live.js";
import { signedIn, wireSignOut } from "./login.js";
import { clearNotice, showError } from "./notice.js";
import { Player } from "./player.js";
import { TrackDialogs } from "./track_dialogs.js";
import { wireUploads } from "./uploads.js";

async function main() {
  try {
    await signedIn("/player/state");
  } catch (error) {
    showError(`mus cannot start here: ${error.message}`);
    return;
  }
  wireSignOut(document.getElementById("sign-out"));
  const player = new Player();
  const dialogs = new TrackDialogs();
  const errors = new ErrorsView();
  const library = new Library({
    play: (track, tracks) => player.play(track, tracks),
    edit: (track) => dialogs.edit(track),
    remove: (track) => dialogs.remove(track),
    rendered: () => {
      player.markCurrentRow();
      if (!player.queue.length) player.queue = library.tracks.slice();
    },
  });
  wireUploads();
  const showView = () => {
    const errorsShown = location.hash === "#errors";
    document.getElementById("library-view").hidden = errorsShown;
    document.getElementById("errors-view").hidden = !errorsShown;
    const current = errorsShown ? "errors-link" : "library-link";
    for (const id of ["library-link", "errors-link"]) {
      const link = document.getElementById(id);
      if (id === current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    clearNotice();
    if (errorsShown) errors.load();
  };
  window.addEventListener("hashchange", showView);
  showView();
  await Promise.all([library.load(0), errors.load(), player.restore()]);
  document.body.dataset.ready = "true";
  followEvents(
    (type, data) => {
      library.applyEvent(type, data);
      player.applyEvent(type, data);
      if (type !== "track_added") errors.loadSoon();
    },
    () => {
      library.load();
      errors.load();
    },
  );
  if (storedKey()) document.getElementById("sign-out").hidden = false;
}

main();
