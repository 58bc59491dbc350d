// Editing a track's title and artist (optionally renaming its file) and deleting it, each
// in a dialog that says in words what the api answered when it refused.

import { request } from "./api.js";
import { showInfo } from "./notice.js";

export class TrackDialogs {
  constructor() {
    this.editDialog = document.getElementById("edit-dialog");
    this.editForm = document.getElementById("edit-form");
    this.editError = document.getElementById("edit-error");
    this.deleteDialog = document.getElementById("delete-dialog");
    this.deleteForm = document.getElementById("delete-form");
    this.deleteError = document.getElementById("delete-error");
    this.track = null;
    this.opener = null;
    this.editForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveEdit();
    });
    this.deleteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirmDelete();
    });
    document.getElementById("edit-cancel").addEventListener("click", () => this.editDialog.close());
    document.getElementById("delete-cancel").addEventListener("click", () => this.deleteDialog.close());
    for (const dialog of [this.editDialog, this.deleteDialog]) {
      dialog.addEventListener("close", () => this.opener?.focus());
    }
  }

  edit(track) {
    this.track = track;
    this.opener = document.activeElement;
    document.getElementById("edit-title").value = track.title;
    document.getElementById("edit-artist").value = track.artist || "";
    document.getElementById("edit-rename").checked = false;
    this.editError.textContent = "";
    this.editDialog.showModal();
    document.getElementById("edit-title").select();
  }

  async saveEdit() {
    const track = this.track;
    const title = document.getElementById("edit-title").value.trim();
    const artist = document.getElementById("edit-artist").value.trim();
    const rename = document.getElementById("edit-rename").checked;
    const body = { rename };
    if (title !== track.title) body.title = title; // a blank title goes too: the api says why not
    if (artist && artist !== (track.artist || "")) body.artist = artist;
    if (!("title" in body) && !("artist" in body) && !rename) {
      this.editDialog.close();
      return;
    }
    const save = document.getElementById("edit-save");
    save.disabled = true;
    try {
      const edited = await request("PATCH", `/tracks/${track.id}`, body);
      this.editDialog.close();
      showInfo(
        edited.pending_rename
          ? `Saved. The file is being renamed to ${edited.pending_rename}.`
          : `Saved “${edited.title}”.`,
      );
    } catch (error) {
      this.editError.textContent = `Not saved: ${error.message}`;
    } finally {
      save.disabled = false;
    }
  }

  remove(track) {
    this.track = track;
    this.opener = document.activeElement;
    document.getElementById("delete-question").textContent =
      `“${track.title}” and its file ${track.file_path} will be deleted from the music folder. This cannot be undone.`;
    this.deleteError.textContent = "";
    this.deleteDialog.showModal();
    document.getElementById("delete-cancel").focus();
  }

  async confirmDelete() {
    const confirm = document.getElementById("delete-confirm");
    confirm.disabled = true;
    try {
      await request("DELETE", `/tracks/${this.track.id}`);
      this.deleteDialog.close();
      showInfo(`Deleting “${this.track.title}”…`);
    } catch (error) {
      this.deleteError.textContent = `Not deleted: ${error.message}`;
    } finally {
      confirm.disabled = false;
    }
  }
}
