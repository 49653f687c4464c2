// AgentAuth's service worker: shows approval requests pushed to this device (Web Push) and opens
// the approval page when one is tapped. It never decides: every decision is made on the page.
"use strict";

self.addEventListener("push", (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch (error) { return; }
  if (!message.approval_id || !message.url) return;
  const labels = { review: "Review", deny: "Deny", approve: "Approve" };
  event.waitUntil(self.registration.showNotification(message.title || "An agent asks you to approve", {
    body: [message.body, message.binding_message && `Code: ${message.binding_message}`].filter(Boolean).join("\n"),
    tag: message.approval_id,
    requireInteraction: true,
    data: { url: message.url },
    actions: (message.actions || ["review"]).map((action) => ({ action, title: labels[action] || action })),
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url);
  if (url.origin !== self.location.origin) return;
  // The page asks once more (and steps up for high risk): a tap is an intent, not a decision.
  if (event.action === "deny" || event.action === "approve") url.searchParams.set("intent", event.action);
  event.waitUntil(self.clients.openWindow(url.href));
});
