// Names each autocomplete box of an inline row for assistive technology: select2 shows
// the chosen entry, or nothing, in a text box with no name of its own, so the box takes
// the aria-label our admin gives the select it stands for (explainer/admin.py).
"use strict";
{
  function nameAutocompleteBoxes() {
    for (const select of document.querySelectorAll("select.admin-autocomplete[aria-label]")) {
      const box = document.getElementById(`select2-${select.id}-container`);
      if (box) {
        box.setAttribute("aria-label", select.getAttribute("aria-label"));
      }
    }
  }
  window.addEventListener("load", nameAutocompleteBoxes);
  // A row added with "Add another" gets its select2 boxes in the same event.
  document.addEventListener("formset:added", () => setTimeout(nameAutocompleteBoxes));
}
