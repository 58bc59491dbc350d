// Uploading audio by the file picker or by dropping files on the page, one request per
// file with its progress; the title starts as the file's name (edit it afterwards).

import { upload } from "./api.js";

const AUDIO = /\.(mp3|flac|ogg|m4a|wav)$/i;

export function wireUploads() {
  const input = document.getElementById("upload-input");
  const zone = document.getElementById("drop-zone");
  input.addEventListener("change", () => {
    sendAll([...input.files]);
    input.value = "";
  });
  let depth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    depth += 1;
    zone.classList.add("active");
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("active");
  });
  document.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    depth = 0;
    zone.classList.remove("active");
    sendAll([...event.dataTransfer.files]);
  });
}

export function titleFromFileName(name) {
  const stem = name.replace(/\.[^.]+$/, "").replace(/[_]+/g, " ").trim();
  return stem || name;
}

function sendAll(files) {
  for (const file of files) send(file);
}

async function send(file) {
  const list = document.getElementById("uploads");
  const item = document.createElement("li");
  const label = document.createElement("span");
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", `Upload of ${file.name}`);
  label.textContent = `Uploading ${file.name}…`;
  item.append(label, progress);
  list.append(item);
  if (!AUDIO.test(file.name)) {
    finish(item, label, progress, `${file.name} was not uploaded: only mp3, flac, ogg, m4a and wav files are audio mus reads.`, true);
    return;
  }
  const form = new FormData();
  form.append("title", titleFromFileName(file.name));
  form.append("file", file, file.name);
  try {
    const accepted = await upload(form, (fraction) => (progress.value = fraction));
    finish(item, label, progress, `${file.name} uploaded as ${accepted.file_path}; it appears in the library as it is indexed.`, false);
  } catch (error) {
    finish(item, label, progress, `${file.name} was not uploaded: ${error.message}`, true);
  }
}

function finish(item, label, progress, text, failed) {
  progress.value = failed ? 0 : 1;
  progress.hidden = true;
  label.textContent = text;
  item.classList.add(failed ? "failed" : "done");
  if (failed) item.setAttribute("role", "alert");
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "quiet";
  dismiss.textContent = "Dismiss";
  dismiss.setAttribute("aria-label", `Dismiss: ${text}`);
  dismiss.addEventListener("click", () => item.remove());
  item.append(dismiss);
  if (!failed) setTimeout(() => item.remove(), 15000);
}
