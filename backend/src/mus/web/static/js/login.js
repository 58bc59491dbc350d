// The sign-in form both pages show when the server asks for its key (SECRET_KEY).

import { getJson, storeKey, storedKey } from "./api.js";

// Resolves once the API answers with the key this browser holds (or needs none).
export async function signedIn(probePath) {
  const dialog = document.getElementById("login");
  const form = document.getElementById("login-form");
  const input = document.getElementById("login-key");
  const message = document.getElementById("login-message");
  for (;;) {
    try {
      await getJson(probePath);
      dialog.hidden = true;
      document.body.classList.remove("locked");
      return;
    } catch (error) {
      if (error.status !== 401) throw error;
    }
    message.textContent = storedKey()
      ? "That key was refused. Type the server's SECRET_KEY."
      : "This server needs its key. Type the server's SECRET_KEY.";
    dialog.hidden = false;
    document.body.classList.add("locked");
    input.value = "";
    input.focus();
    await new Promise((resolve) => {
      form.addEventListener(
        "submit",
        (event) => {
          event.preventDefault();
          storeKey(input.value.trim());
          resolve();
        },
        { once: true },
      );
    });
  }
}

export function wireSignOut(button) {
  button.hidden = !storedKey();
  button.addEventListener("click", () => {
    storeKey("");
    location.reload();
  });
}
