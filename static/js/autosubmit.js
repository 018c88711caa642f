// Sends a filter form as soon as a choice changes: <select data-autosubmit>. The form's button still
// works without script.
"use strict";
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});
