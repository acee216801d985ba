/* The header's search box as an ARIA combobox (the APG "list autocomplete" pattern).
   htmx fills the pop-up (#live-results) with options as the reader types; this script
   opens and closes it and moves the active option: Down and Up move, Enter opens the
   active option, Escape closes. Focus stays in the box throughout; the active option is
   named by aria-activedescendant. Every option is a link, so a click needs nothing here. */
(function () {
  "use strict";

  function setUp(input) {
    var popup = document.getElementById(input.getAttribute("aria-controls"));
    if (!popup) return;
    var form = input.form;
    var state = { isOpen: false, active: -1 };

    function options() {
      return Array.prototype.slice.call(popup.querySelectorAll('[role="option"]'));
    }

    function open() {
      if (!options().length) return close();
      state.isOpen = true;
      popup.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      state.isOpen = false;
      popup.hidden = true;
      input.setAttribute("aria-expanded", "false");
      activate(-1);
    }

    function activate(index) {
      var all = options();
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      state.active = index;
      if (index < 0 || !all[index]) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    }

    function move(step) {
      var count = options().length;
      if (!count) return;
      if (!state.isOpen) open();
      // From no active option, Down goes to the first and Up to the last; both wrap.
      var next = state.active < 0 ? (step > 0 ? 0 : count - 1) : (state.active + step + count) % count;
      activate(next);
    }

    function follow() {
      var option = options()[state.active];
      if (option) window.location.assign(option.href);
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" && state.isOpen && state.active >= 0) {
        event.preventDefault();
        follow();
      } else if (event.key === "Escape" && state.isOpen) {
        // Only close: the search box's own Escape would also clear what was typed.
        event.preventDefault();
        close();
      }
    });

    // New options replace the old ones: none is active until the reader moves again.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== popup) return;
      state.active = -1;
      input.removeAttribute("aria-activedescendant");
      if (document.activeElement === input) open();
      else close();
    });

    input.addEventListener("focus", function () {
      if (input.value.trim()) open();
    });

    // A click inside the pop-up keeps it open long enough to follow the link.
    form.addEventListener("focusout", function (event) {
      if (!form.contains(event.relatedTarget)) close();
    });

    popup.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
  }

  function start() {
    document.querySelectorAll('input[role="combobox"][aria-controls]').forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
