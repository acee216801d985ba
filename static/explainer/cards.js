/* Context cards: a story's mentions open their entry's card (the entry page's #card partial,
   fetched once through htmx) on hover intent, keyboard focus, a click or a tap.

   WCAG 2.2 SC 1.4.13: a card can be dismissed (Escape) without moving the pointer or focus,
   the pointer can move onto it, and it stays until the pointer or focus leaves. A click, Enter
   or a tap pins it as a labelled, non-modal dialog with a close button. Every mention stays a
   real link: modified clicks, middle clicks and readers without JavaScript get the entry page.
   Loaded with `defer`; it starts at DOMContentLoaded, after htmx has read its config. */
(() => {
  "use strict";

  const FETCH_DELAY = 150; // dwell before fetching: a pointer passing over fetches nothing
  const SHOW_DELAY = 400; // dwell before showing
  const CLOSE_DELAY = 300; // grace for moving between a mention and its card
  const SCROLL_QUIET = 100; // hovers this soon after a scroll are the page moving, not intent
  const KEY = "explainer:cards";

  const init = () => {
    const story = document.querySelector(".story-body");
    if (!story || !window.htmx) return;
    const root = document.documentElement;
    const toggle = document.querySelector(".cards-toggle");
    const narrow = matchMedia("(max-width: 40rem)");
    const cards = new Map(); // entry slug -> the element its card was fetched into
    let off = false;
    let mode = ""; // "", "peek" (hover or focus preview) or "pin" (dialog)
    let cur = null; // the mention whose card is shown
    let via = ""; // what opened a peek: "hover" or "focus"
    let pend = null; // the mention whose card is about to open
    let pendVia = "";
    let dismissed = null; // closed with Escape: don't reopen until the pointer or focus leaves
    let lastScroll = -1e9;
    let tFetch = 0;
    let tShow = 0;
    let tClose = 0;

    const el = (tag, cls, text) => {
      const e = document.createElement(tag);
      e.className = cls;
      if (text) e.textContent = text;
      return e;
    };
    const pop = el("div", "card-pop");
    const close = el("button", "card-pop__close", "×");
    const box = el("div", "card-pop__cards");
    close.type = "button";
    pop.hidden = true;
    pop.append(close, box);
    // Inside <main>, so every part of a card is in a landmark; absolutely positioned, so
    // opening one never moves the story.
    (document.querySelector("main") || document.body).append(pop);

    const mentionOf = (t) =>
      t instanceof Element ? t.closest(".story-body a.mention[data-entry]") : null;
    const slugOf = (m) => m.dataset.entry;
    const holder = () => cur && cards.get(slugOf(cur));
    const quiet = () => performance.now() - lastScroll > SCROLL_QUIET;
    const keyboardFocus = (m) => m === document.activeElement && m.matches(":focus-visible");

    // A stand-in card while loading or after a failure, labelled like the real one.
    const stub = (h, m, text, failed) => {
      const s = el("section", "context-card context-card--stub");
      const t = el("h2", "context-card__title", m.textContent.trim());
      t.id = "card-title-" + slugOf(m);
      s.setAttribute("aria-labelledby", t.id);
      s.append(t, el("p", "context-card__description", text));
      if (failed) {
        const a = el("a", "context-card__more", "Read more about " + t.textContent);
        a.href = m.getAttribute("href");
        s.append(a);
      }
      h.replaceChildren(s);
    };

    const failed = (h, m) => {
      h.dataset.state = ""; // the next open tries again
      stub(h, m, "Sorry, this card could not be loaded.", true);
      loaded(h);
    };

    // Each card is fetched at most once per page view (again only after a failure).
    const load = (m) => {
      const slug = slugOf(m);
      let h = cards.get(slug);
      if (!h) {
        h = el("div", "card-pop__card");
        h.hidden = true;
        box.append(h);
        cards.set(slug, h);
        // An error answer becomes a message here, not a swap, a console error or (in
        // development) django-htmx's full-page error view.
        h.addEventListener("htmx:beforeOnLoad", (e) => {
          if (e.detail.xhr.status < 400) return;
          e.preventDefault();
          e.stopPropagation();
          failed(h, m);
        });
      }
      if (!h.dataset.state) {
        h.dataset.state = "loading";
        stub(h, m, "Loading…");
        window.htmx
          .ajax("GET", m.getAttribute("href"), { source: h, target: h, swap: "innerHTML" })
          .then(
            () => {
              if (h.dataset.state !== "loading") return;
              h.dataset.state = "done";
              loaded(h);
            },
            () => failed(h, m),
          );
      }
      return h;
    };

    const loaded = (h) => {
      if (mode && holder() === h) {
        label();
        place(true);
      }
    };

    const label = () => {
      const t = holder().querySelector(".context-card__title");
      close.setAttribute("aria-label", "Close card: " + (t || cur).textContent.trim());
    };

    // Below the mention, or above it when it sits near the viewport's bottom edge; never over
    // it. Pinned on a narrow screen, the card is a bottom sheet (CSS); as it opens (`reveal`),
    // the page scrolls the mention clear of it.
    const place = (reveal) => {
      const lines = mode ? cur.getClientRects() : [];
      if (!lines.length) return;
      const r = cur.getBoundingClientRect();
      if (mode === "pin" && narrow.matches) {
        const top = innerHeight - pop.offsetHeight; // offsetHeight: not moved by its slide-in
        if (reveal && r.bottom > top - 8) window.scrollBy(0, r.bottom - top + 16);
        return;
      }
      const gap = 8;
      pop.style.removeProperty("--card-max");
      const w = pop.offsetWidth;
      let h = pop.offsetHeight;
      const below = innerHeight - r.bottom - 2 * gap;
      const above = h > below && r.top - 2 * gap > below;
      const room = Math.max(above ? r.top - 2 * gap : below, 160);
      if (h > room) {
        // Fits on neither side: take the roomier one and scroll inside the card.
        pop.style.setProperty("--card-max", room + "px");
        h = pop.offsetHeight;
      }
      const line = above ? lines[0] : lines[lines.length - 1];
      const x = Math.max(gap, Math.min(line.left, root.clientWidth - w - gap));
      const y = above ? r.top - gap - h : r.bottom + gap;
      pop.style.setProperty("--card-x", x + scrollX + "px");
      pop.style.setProperty("--card-y", y + scrollY + "px");
    };

    const stop = () => {
      clearTimeout(tFetch);
      clearTimeout(tShow);
      pend = null;
      pendVia = "";
    };

    const show = (m, how) => {
      stop();
      clearTimeout(tClose);
      const h = load(m);
      for (const c of box.children) c.hidden = c !== h;
      const pin = how === "pin";
      cur = m;
      mode = how;
      pop.classList.toggle("card-pop--pinned", pin);
      close.hidden = !pin;
      if (pin) {
        pop.setAttribute("role", "dialog");
        pop.setAttribute("aria-labelledby", "card-title-" + slugOf(m));
        pop.tabIndex = -1;
      } else {
        pop.removeAttribute("role");
        pop.removeAttribute("aria-labelledby");
        pop.removeAttribute("tabindex");
      }
      pop.hidden = false;
      label();
      place(true);
      // For reading.js: how long a card stays open, and its "I know who this is" button.
      pop.dispatchEvent(new CustomEvent("card:shown", { bubbles: true, detail: { slug: slugOf(m) } }));
    };

    const hide = () => {
      stop();
      clearTimeout(tClose);
      if (!mode) return;
      if (location.hash === "#card-" + slugOf(cur)) {
        history.replaceState(history.state, "", location.pathname + location.search);
      }
      mode = "";
      cur = null;
      pop.hidden = true;
      pop.dispatchEvent(new CustomEvent("card:hidden", { bubbles: true }));
    };

    const pin = (m) => {
      show(m, "pin");
      pop.focus({ preventScroll: true });
    };

    // Close a pinned card and give focus back to its mention, without reopening a preview.
    const unpin = () => {
      const m = cur;
      hide();
      dismissed = m;
      m.focus();
    };

    const intent = (m, how) => {
      stop();
      pend = m;
      pendVia = how;
      tFetch = setTimeout(load, FETCH_DELAY, m);
      tShow = setTimeout(() => {
        via = how;
        show(m, "peek");
      }, SHOW_DELAY);
    };

    // The next thing in the tab order after a mention, as if its card sat right after it.
    const after = (m) => {
      const all = [
        ...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]"),
      ].filter((e) => e.tabIndex >= 0 && !e.disabled && !pop.contains(e) && e.getClientRects().length);
      return all[all.indexOf(m) + 1];
    };

    // Mouse only: touch and pen get no hover emulation, a tap is a click.
    const hover = (e) => {
      if (e.pointerType !== "mouse" || off || mode === "pin") return;
      if (pop.contains(e.target)) return clearTimeout(tClose);
      const m = mentionOf(e.target);
      if (!m) return;
      if (m === cur) return clearTimeout(tClose);
      if (m !== pend && m !== dismissed && quiet()) intent(m, "hover");
    };
    document.addEventListener("pointerover", hover);
    document.addEventListener("pointermove", hover);

    document.addEventListener("pointerout", (e) => {
      if (e.pointerType !== "mouse") return;
      const to = e.relatedTarget;
      const m = mentionOf(e.target);
      if (m && m.contains(to)) return;
      if (m && m === dismissed) dismissed = null;
      if (m && m === pend && pendVia === "hover") stop();
      const left = m === cur || pop.contains(e.target);
      const into = to && (cur?.contains(to) || pop.contains(to));
      if (mode === "peek" && via === "hover" && left && !into) {
        clearTimeout(tClose);
        tClose = setTimeout(() => keyboardFocus(cur) || hide(), CLOSE_DELAY);
      }
    });

    addEventListener(
      "scroll",
      () => {
        lastScroll = performance.now();
        if (pendVia === "hover") stop();
      },
      { passive: true, capture: true },
    );

    // Keyboard focus previews the card; aria-describedby already gives the description.
    document.addEventListener("focusin", (e) => {
      const m = mentionOf(e.target);
      if (!m || off || mode === "pin" || m === dismissed || !m.matches(":focus-visible")) return;
      if (m === cur) via = "focus";
      else if (m !== pend) intent(m, "focus");
    });

    document.addEventListener("focusout", (e) => {
      const m = mentionOf(e.target);
      if (!m) return;
      if (m === dismissed) dismissed = null;
      if (m === pend && pendVia === "focus") stop();
      if (m === cur && mode === "peek" && via === "focus") hide();
    });

    document.addEventListener("click", (e) => {
      const m = mentionOf(e.target);
      // A click or tap anywhere else closes the card (a click, so scrolling a page does not).
      if (mode && !pop.contains(e.target) && m !== cur) hide();
      if (!m || off || e.defaultPrevented || e.button) return;
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      if (!(mode === "pin" && cur === m)) pin(m);
      else pop.focus({ preventScroll: true });
    });

    close.addEventListener("click", unpin);

    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && (mode || pend)) {
        if (mode === "pin") return unpin();
        dismissed = cur || pend;
        return hide();
      }
      if (e.key !== "Tab" || mode !== "pin" || !pop.contains(document.activeElement)) return;
      // Tabbing out of a pinned card continues from its mention.
      const inside = [...pop.querySelectorAll("a[href], button")].filter(
        (x) => x.getClientRects().length,
      );
      const a = document.activeElement;
      if (e.shiftKey ? a === pop || a === inside[0] : a === inside[inside.length - 1]) {
        e.preventDefault();
        if (e.shiftKey) return unpin();
        const next = after(cur) || cur;
        hide();
        next.focus();
      }
    });

    addEventListener("resize", () => place());
    pop.addEventListener("load", () => place(), true); // an image arrived: the card grew

    // #card-<slug> opens the story with that card pinned.
    const fromHash = () => {
      const match = /^#card-(.+)$/.exec(location.hash);
      const slug = match && decodeURIComponent(match[1]);
      const m = slug && story.querySelector(`a.mention[data-entry="${CSS.escape(slug)}"]`);
      if (!m || (mode === "pin" && cur === m)) return;
      m.scrollIntoView(); // near the top, leaving the card room below it
      window.scrollBy(0, -innerHeight / 8);
      if (!off) pin(m);
    };
    addEventListener("hashchange", fromHash);

    // Off: mentions are plain links, with no highlight and no cards.
    const setOff = (value) => {
      off = value;
      hide();
      root.classList.toggle("cards-off", off);
      if (toggle) toggle.setAttribute("aria-pressed", String(!off));
      for (const m of story.querySelectorAll("a.mention[data-entry]")) {
        if (off) m.removeAttribute("aria-describedby");
        else m.setAttribute("aria-describedby", "mention-desc-" + slugOf(m));
      }
    };
    let saved = null;
    try {
      saved = localStorage.getItem(KEY);
    } catch {
      // storage blocked: the preference lasts for this page view only
    }
    setOff(saved === "off");
    if (toggle) {
      toggle.removeAttribute("data-waiting");
      toggle.addEventListener("click", () => {
        setOff(!off);
        try {
          localStorage.setItem(KEY, off ? "off" : "on");
        } catch {
          // as above
        }
      });
    }
    fromHash();
  };

  document.addEventListener("DOMContentLoaded", init);
})();
