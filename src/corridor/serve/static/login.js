// corridor serve: the login form. Sends JSON (never a form post), then goes to the workspace.
"use strict";
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("login-error");
  err.textContent = "";
  const body = JSON.stringify({
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  });
  try {
    const r = await fetch("/api/login", {
      method: "POST", body, credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
    });
    if (r.ok) { window.location.assign("/"); return; }
    const data = await r.json().catch(() => ({}));
    err.textContent = (data && data.detail) ? String(data.detail) : `login failed (${r.status})`;
  } catch (e) {
    err.textContent = "the server did not answer";
  }
});
