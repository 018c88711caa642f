// Asks before a form is sent when its submit button says so: <button data-confirm="确定…？">.
// The question is read from the attribute as plain text, so a name inside it can never become code.
// data-confirm-unless-blank="reason" skips the question while that field is empty: the server then
// answers with the missing field, and there is nothing to confirm yet.
"use strict";
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || !button.dataset.confirm) return;
  const required = button.dataset.confirmUnlessBlank;
  if (required && !(event.target.elements[required]?.value || "").trim()) return;
  if (!window.confirm(button.dataset.confirm)) event.preventDefault();
});
