// Two helpers for long or dependent selects; without script the full list still works.
// <select data-option-filter="提示">: a search box above it hides the options whose text lacks what is
// typed (a class found by part of its name or its number). The blank option always stays.
// <select data-level-select="level">: each option's data-levels lists the level values it allows; the
// select named there shows only those (the levels an agency filed for the chosen occupation).
// <select data-occupation-select="occupation_id">: each option's data-occupations lists the occupation values
// the select named there may offer (the occupations the chosen agency filed).
"use strict";

function filterOptions(select, query) {
  const wanted = query.trim().toLowerCase();
  for (const option of select.options) {
    option.hidden = option.value !== "" && wanted !== "" && !option.text.toLowerCase().includes(wanted);
  }
  if (select.selectedOptions[0] && select.selectedOptions[0].hidden) select.value = "";
}

function narrowLevels(select) {
  const levels = document.getElementById(select.dataset.levelSelect);
  const chosen = select.selectedOptions[0];
  if (!levels || !chosen) return;
  const allowed = chosen.dataset.levels ? chosen.dataset.levels.split(" ") : null;
  for (const option of levels.options) option.hidden = allowed !== null && !allowed.includes(option.value);
  if (levels.selectedOptions[0] && levels.selectedOptions[0].hidden) {
    const first = Array.from(levels.options).find((option) => !option.hidden);
    if (first) levels.value = first.value;
  }
}

function narrowOccupations(select) {
  const occupations = document.getElementById(select.dataset.occupationSelect);
  const chosen = select.selectedOptions[0];
  if (!occupations || !chosen) return;
  const allowed = chosen.value ? (chosen.dataset.occupations || "").split(" ") : null;
  for (const option of occupations.options) {
    option.hidden = option.value !== "" && allowed !== null && !allowed.includes(option.value);
  }
  if (occupations.selectedOptions[0] && occupations.selectedOptions[0].hidden) occupations.value = "";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-option-filter]")) {
    const search = document.createElement("input");
    search.type = "search";
    search.className = "option-filter";
    search.placeholder = select.dataset.optionFilter;
    search.setAttribute("aria-label", select.dataset.optionFilter);
    search.addEventListener("input", () => filterOptions(select, search.value));
    select.before(search);
  }
  for (const select of document.querySelectorAll("select[data-occupation-select]")) {
    select.addEventListener("change", () => narrowOccupations(select));
    narrowOccupations(select);
  }
  for (const select of document.querySelectorAll("select[data-level-select]")) {
    select.addEventListener("change", () => narrowLevels(select));
    narrowLevels(select);
  }
});
