// Keeps an import's page current while its file is checked or committed, then reloads it for the report.
// The page carries the progress address in data-progress-url; without script it refreshes itself.
"use strict";
(() => {
  const box = document.getElementById("job-progress");
  if (!box) return;
  const processed = document.getElementById("processed");
  const bar = box.querySelector(".bar rect");
  const poll = () => fetch(box.dataset.progressUrl)
    .then((response) => response.json())
    .then((progress) => {
      if (!progress.running) { window.location.reload(); return; }
      processed.textContent = progress.processed;
      if (progress.total) bar.setAttribute("width", Math.min(100, progress.processed / progress.total * 100));
      setTimeout(poll, 700);
    })
    .catch(() => setTimeout(poll, 2000));
  poll();
})();
