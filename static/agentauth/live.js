// The live approval feed: a WebSocket per tab, in-page alerts, browser notifications, countdowns.
// The server is the truth: on every (re)connect it sends each pending approval again.
"use strict";

(() => {
  const region = document.getElementById("live-alerts");
  if (!region) return;
  const shown = new Map();
  const pending = new Set();
  const DISMISSED = "agentauth.dismissed";
  const dismissed = new Set(JSON.parse(sessionStorage.getItem(DISMISSED) || "[]"));
  let retry = 500;

  const csrfToken = () => (document.cookie.match(/(?:^|; )(?:__Host-)?csrftoken=([^;]+)/) || [])[1] || "";

  function text(tag, className, value) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value; // agent-supplied text is only ever set as text, never as HTML
    return node;
  }

  async function decide(approval, decision, toast) {
    const response = await fetch(`/api/v1/approvals/${encodeURIComponent(approval.id)}/decision`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ decision }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401 && body.reauth_url) {
      window.location.assign(`${body.reauth_url}?next=${encodeURIComponent(approval.url)}`);
      return;
    }
    if (response.status === 409) {
      setStatus(toast, `Already ${body.status || "decided"}`);
      return;
    }
    if (!response.ok) setStatus(toast, "Could not save your decision; open the page and try again.");
  }

  function setStatus(toast, message) {
    const status = toast.querySelector("[data-role=toast-status]");
    if (status) status.textContent = message;
    toast.querySelectorAll("button").forEach((button) => { button.disabled = true; });
  }

  function count() {
    const badge = document.querySelector("[data-role=pending-count]");
    if (!badge) return;
    badge.textContent = pending.size;
    badge.hidden = pending.size === 0;
    badge.setAttribute("aria-label", `${pending.size} waiting`);
  }

  function showPending(approval) {
    pending.add(approval.id);
    count();
    // Already on this approval's own page, or put off for later: no card for it here.
    if (shown.has(approval.id) || dismissed.has(approval.id)) return;
    if (document.querySelector(`section[data-approval="${CSS.escape(approval.id)}"]`)) return;
    const toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "alertdialog");
    toast.setAttribute("aria-label", `${approval.agent.name} asks you to approve`); // a dialog has a name
    toast.dataset.approval = approval.id;
    toast.append(text("p", "toast-agent muted small", `${approval.agent.name} asks you to approve`));
    toast.append(text("p", "toast-summary", approval.summary));
    if (approval.binding_message) toast.append(text("p", "small binding-line", `Code: ${approval.binding_message}`));
    // Everything the person approves is in front of them: every scope, every detail, in full.
    const facts = document.createElement("dl");
    facts.className = "facts small";
    (approval.facts || []).forEach(([label, value]) => facts.append(text("dt", "", label), text("dd", "fact", value)));
    toast.append(facts);
    toast.append(text("p", "small muted", `${approval.scope_description || approval.scope} · ${approval.risk} risk`));
    const actions = document.createElement("div");
    actions.className = "toast-actions";
    const deny = text("button", "secondary small", "Deny");
    const approve = text("button", "primary small", "Approve");
    const view = text("a", "button secondary small", "View");
    view.href = approval.url;
    deny.type = approve.type = "button";
    deny.name = "deny";
    approve.name = "approve";
    deny.addEventListener("click", () => decide(approval, "deny", toast));
    approve.addEventListener("click", () => decide(approval, "approve", toast));
    const later = text("button", "link small later", "Later");
    later.type = "button";
    later.addEventListener("click", () => { // still waiting in the inbox (Approvals), with the count
      dismissed.add(approval.id);
      sessionStorage.setItem(DISMISSED, JSON.stringify([...dismissed]));
      toast.remove();
    });
    actions.append(deny, approve, view, later);
    toast.append(actions, text("p", "small", ""));
    toast.lastChild.dataset.role = "toast-status";
    region.prepend(toast);
    shown.set(approval.id, toast);
    notify(approval);
    // Expiry is a time every screen knows: no need to wait for the server to say it.
    setTimeout(() => expireLocally(approval.id), Math.max(Date.parse(approval.expires_at) - Date.now(), 0));
  }

  function notify(approval) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
    const note = new Notification(`${approval.agent.name} asks you to approve`, {
      body: approval.summary,
      tag: approval.id,
      requireInteraction: true,
    });
    note.onclick = () => { window.focus(); window.location.assign(approval.url); };
  }

  function expireLocally(id) {
    // Only what is still pending here expires: a decision that arrived first stands.
    const page = document.querySelector(`section[data-approval="${CSS.escape(id)}"]`);
    const toast = shown.get(id);
    if ((toast && !toast.dataset.final) || (page && page.dataset.status === "pending")) showUpdate({ id, status: "expired" });
  }

  function showUpdate(approval) {
    if (approval.status !== "pending") {
      pending.delete(approval.id);
      count();
    }
    const toast = shown.get(approval.id);
    if (toast) {
      toast.dataset.final = approval.status;
      setStatus(toast, `Now ${approval.status}.`);
      setTimeout(() => { toast.remove(); shown.delete(approval.id); }, 4000);
    }
    document.querySelectorAll(`[data-approval="${CSS.escape(approval.id)}"] [data-role=status]`).forEach((badge) => {
      badge.textContent = approval.status;
      badge.className = `badge status-${approval.status}`;
    });
    const page = document.querySelector(`section[data-approval="${CSS.escape(approval.id)}"]`);
    if (page && approval.status !== "pending") {
      page.dataset.status = approval.status;
      page.querySelectorAll("[data-decision-form]").forEach((form) => form.remove());
    }
  }

  function showAgent(agent) {
    document.querySelectorAll(`[data-agent="${CSS.escape(agent.client_id)}"] .badge`).forEach((badge) => {
      badge.textContent = agent.status;
      badge.className = `badge status-${agent.status}`;
    });
    const toast = text("div", "toast info", `${agent.name}: ${agent.change}.`);
    toast.setAttribute("role", "status");
    region.prepend(toast);
    setTimeout(() => toast.remove(), 6000);
  }

  function showAlert(alert) {
    const toast = text("div", `toast alert-${alert.severity}`, "");
    toast.setAttribute("role", "alert");
    toast.append(text("p", "toast-summary", alert.summary));
    const link = text("a", "button secondary small", "Review alerts");
    link.href = alert.url;
    toast.append(link);
    region.prepend(toast);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/approvals/`);
    socket.addEventListener("open", () => { retry = 500; document.body.dataset.live = "on"; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "approval.created" && event.approval.status === "pending") showPending(event.approval);
      else if (event.type === "approval.created" || event.type === "approval.updated") showUpdate(event.approval);
      else if (event.type === "agent.updated") showAgent(event.agent);
      else if (event.type === "alert.created") showAlert(event.alert);
    });
    socket.addEventListener("close", (closed) => {
      document.body.dataset.live = "off";
      if (closed.code === 4401) return; // signed out: do not knock again
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }

  const ask = document.getElementById("enable-notifications");
  if (ask && "Notification" in window && Notification.permission === "default") {
    ask.hidden = false;
    ask.addEventListener("click", () => Notification.requestPermission().then(() => { ask.hidden = true; }));
  }

  document.querySelectorAll("[data-role=countdown]").forEach((clock) => {
    const expires = Date.parse(clock.closest("[data-expires]").dataset.expires);
    const tick = () => {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      clock.textContent = left ? `${Math.floor(left / 60)} min ${left % 60} s` : "expired";
      if (left) setTimeout(tick, 1000);
      else expireLocally(clock.closest("[data-approval]").dataset.approval);
    };
    tick();
  });

  connect();
})();
