// Follows a file being built by the task worker (a batch's certificates, a long list); once it is ready the download starts.
// The page carries both addresses in data-progress-url and data-file-url; without script it refreshes itself.
"use strict";
(() => {
  const box = document.getElementById("output-progress");
  if (!box) return;
  const done = document.getElementById("done");
  const bar = box.querySelector(".bar rect");
  const poll = () => fetch(box.dataset.progressUrl)
    .then((response) => response.json())
    .then((progress) => {
      if (progress.state === "ready") {
        box.hidden = true;
        document.getElementById("output-ready").hidden = false;
        window.location.href = box.dataset.fileUrl;
        return;
      }
      if (progress.state === "failed" || progress.state === "absent") { window.location.reload(); return; }
      done.textContent = progress.done;
      if (progress.total) bar.setAttribute("width", Math.min(100, progress.done / progress.total * 100));
      setTimeout(poll, 1000);
    })
    .catch(() => setTimeout(poll, 3000));
  poll();
})();
