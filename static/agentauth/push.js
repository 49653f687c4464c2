// "Notify this device": register the service worker, subscribe with the server's VAPID key and
// hand the browser's PushSubscription to the server; and remove a device from the list.
"use strict";

(() => {
  const button = document.getElementById("notify-this-device");
  const status = document.getElementById("notify-status");
  const csrfToken = () => (document.cookie.match(/(?:^|; )(?:__Host-)?csrftoken=([^;]+)/) || [])[1] || "";
  const send = (url, options = {}) => fetch(url, {
    credentials: "same-origin",
    ...options,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), ...(options.headers || {}) },
  });
  const fromBase64Url = (value) => {
    const raw = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (value.length % 4)) % 4));
    return Uint8Array.from(raw, (char) => char.charCodeAt(0));
  };

  if (button) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      button.disabled = true;
      status.textContent = "This browser cannot receive notifications.";
    }
    button.addEventListener("click", async () => {
      try {
        const { application_server_key: key } = await (await send(button.dataset.endpoint)).json();
        const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
        const subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: fromBase64Url(key),
        });
        const saved = await send(button.dataset.endpoint, { method: "POST", body: JSON.stringify(subscription) });
        if (!saved.ok) throw new Error(`the server answered ${saved.status}`);
        window.location.reload();
      } catch (error) {
        status.textContent = `Not subscribed: ${error.message}`;
      }
    });
  }
  document.querySelectorAll("[data-remove]").forEach((remove) => {
    remove.addEventListener("click", async () => {
      const answer = await send(remove.dataset.remove, { method: "DELETE" });
      if (answer.ok) remove.closest("li").remove();
    });
  });
})();
