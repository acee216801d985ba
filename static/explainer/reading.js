/* What a reader's browser remembers, and the one thing it tells us.

   "I know who this is": a card's button marks its entry as known. Known names keep their
   link but lose their highlight, in this story and in later ones. The list lives in this
   browser's localStorage only: no account, and nothing about it is sent to the server.
   "Highlight names I know again", beside the cards switch, forgets the list.

   A card read: when a card stays open for a second or more (Wikipedia's rule for a page
   preview "seen"), the entry and the story are sent once per page view, without cookies,
   to be counted per day (explainer/readership.py). Nothing else is sent.

   Loaded with `defer` after cards.js, which announces cards with "card:shown" and
   "card:hidden" events. */
(() => {
  "use strict";

  const KNOWN_KEY = "explainer:known";
  const READ_AFTER = 1000; // ms a card stays open before it counts as read

  const init = () => {
    const story = document.querySelector(".story-body");
    if (!story) return;
    const reset = document.querySelector(".known-reset");

    const loadKnown = () => {
      try {
        const list = JSON.parse(localStorage.getItem(KNOWN_KEY) || "[]");
        return new Set(Array.isArray(list) ? list.filter((s) => typeof s === "string") : []);
      } catch {
        return new Set(); // storage blocked or unreadable: nothing is known
      }
    };
    let known = loadKnown();
    const saveKnown = () => {
      try {
        if (known.size) localStorage.setItem(KNOWN_KEY, JSON.stringify([...known]));
        else localStorage.removeItem(KNOWN_KEY);
      } catch {
        // storage blocked: the choice lasts for this page view only
      }
    };

    const render = () => {
      for (const m of story.querySelectorAll("a.mention[data-entry]")) {
        m.classList.toggle("mention--known", known.has(m.dataset.entry));
      }
      for (const button of document.querySelectorAll(".context-card__known")) {
        button.hidden = false;
        button.setAttribute("aria-pressed", String(known.has(button.dataset.known)));
      }
      if (reset) {
        const here = new Set(
          [...story.querySelectorAll("a.mention[data-entry]")].map((m) => m.dataset.entry),
        );
        reset.hidden = ![...known].some((slug) => here.has(slug));
      }
    };

    document.addEventListener("click", (e) => {
      const button = e.target instanceof Element && e.target.closest(".context-card__known");
      if (!button) return;
      const slug = button.dataset.known;
      if (known.has(slug)) known.delete(slug);
      else known.add(slug);
      saveKnown();
      render();
    });
    if (reset) {
      reset.addEventListener("click", () => {
        known = new Set();
        saveKnown();
        render();
        const toggle = document.querySelector(".cards-toggle");
        if (toggle) toggle.focus(); // the reset button hides itself
      });
    }
    // Another tab changed the list.
    addEventListener("storage", (e) => {
      if (e.key === KNOWN_KEY) {
        known = loadKnown();
        render();
      }
    });

    const readsUrl = story.dataset.reads;
    const storySlug = story.dataset.story;
    const sent = new Set();
    let timer = 0;
    document.addEventListener("card:shown", (e) => {
      render(); // a card fetched just now has its button
      clearTimeout(timer);
      const slug = e.detail.slug;
      if (!readsUrl || !storySlug || sent.has(slug)) return;
      timer = setTimeout(() => {
        sent.add(slug);
        fetch(readsUrl, {
          method: "POST",
          body: new URLSearchParams({ entry: slug, story: storySlug }),
          credentials: "omit",
          keepalive: true,
        }).catch(() => {
          // a lost count is only a count
        });
      }, READ_AFTER);
    });
    document.addEventListener("card:hidden", () => clearTimeout(timer));
    document.addEventListener("htmx:afterSwap", render); // a card's content arrived

    render();
  };

  document.addEventListener("DOMContentLoaded", init);
})();
