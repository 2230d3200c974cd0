// The one piece of script: when the dispatcher chooses a client (or changes the date), fetch the
// coverage verdict (a server-rendered fragment) into the form, and show the override reason when
// the client is not covered. Without script the "check coverage" button does the same.
document.addEventListener("change", async (event) => {
  const form = event.target.closest("#ticket-form");
  if (!form || !(event.target.matches("[data-coverage]") || event.target.matches("[data-coverage-date]"))) return;
  const client = form.querySelector("[data-coverage]").value;
  const on = form.querySelector("[data-coverage-date]").value;
  const target = form.querySelector("#coverage");
  if (!client) { target.innerHTML = ""; return; }
  const response = await fetch(`/tickets/coverage?client_id=${encodeURIComponent(client)}&on=${encodeURIComponent(on)}`,
                               { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (response.redirected || !response.ok) { window.location.reload(); return; }
  target.innerHTML = await response.text();
  const banner = target.querySelector("[data-status]");
  form.querySelector("#override").hidden = !(banner && banner.dataset.status === "not_covered");
});

// A contract's history is read when the person opens it, not with every card (the card's
// calls to contracts halve). Without script its link opens the history as a page.
document.addEventListener("toggle", async (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.open || !details.dataset.history) return;
  if (details.dataset.loaded) return;
  details.dataset.loaded = "1";
  const response = await fetch(details.dataset.history, { headers: { "X-Console-Fragment": "1" }, credentials: "same-origin" });
  if (response.redirected || !response.ok) { window.location.href = details.dataset.history; return; }
  details.querySelector(".history-body").innerHTML = await response.text();
}, true);
