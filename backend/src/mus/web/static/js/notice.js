// One place on the page that says what just went wrong (or right), in words.

const box = () => document.getElementById("notice");
let timer = null;

export function showError(message) {
  show(message, "error", 0);
}

export function showInfo(message) {
  show(message, "info", 5000);
}

function show(message, kind, hideAfterMs) {
  const element = box();
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = false;
  clearTimeout(timer);
  if (hideAfterMs) timer = setTimeout(() => (element.hidden = true), hideAfterMs);
}

export function clearNotice() {
  box().hidden = true;
}
