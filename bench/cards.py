"""How fast a context card appears, and what the card endpoint costs.

    .venv/bin/python bench/cards.py

Starts its own server (runserver on a free 127.0.0.1 port, over a temporary SQLite database
holding the demo with every mention linked), then measures:

- hover to visible card in Chromium, over many different mentions: from the pointer reaching a
  mention to the first frame after its card (real content, not "Loading…") is shown; reported
  as is and beyond cards.js's intentional show delay, split into first opens of an entry (the
  card is fetched during the dwell) and repeat opens (the card is reused);
- the card endpoint's time on the server side of a loopback HTTP client, against the same
  measure for a static file as the in-run baseline.

Nothing leaves 127.0.0.1. Uses the system Chromium (CHROMIUM_PATH, else /usr/bin/chromium).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

PROJECT = Path(__file__).resolve().parents[1]
CARDS_JS = PROJECT / "static" / "explainer" / "cards.js"
HOVERS = 40
SERVER_REQUESTS = 200
WARMUP = 20

ARM = """(index) => {
    const mention = document.querySelectorAll(".story-body a.mention[data-entry]")[index];
    const pop = document.querySelector(".card-pop");
    const slug = mention.dataset.entry;
    const t = (window.__hover = { slug });
    mention.addEventListener("pointerover", () => { t.start = performance.now(); }, { once: true });
    const observer = new MutationObserver(() => {
        const card = pop.querySelector(`[data-card="${slug}"]`);
        if (t.shown || pop.hidden || !card || card.offsetParent === null) return;
        t.shown = performance.now();
        observer.disconnect();
        requestAnimationFrame(() => { t.painted = performance.now(); });
    });
    observer.observe(pop, { attributes: true, childList: true, subtree: true });
}"""

PAINTED = """() => new Promise((done) => {
    const t = window.__hover;
    const deadline = performance.now() + 5000;
    const tick = () =>
        t.painted || performance.now() > deadline ? done(t) : requestAnimationFrame(tick);
    tick();
})"""

# The middle of a mention's first line: a mention that wraps has a bounding box whose middle
# may be plain text.
FIRST_LINE = """(el) => {
    const r = el.getClientRects()[0];
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
}"""

SETTLE = """() => new Promise((done) => {
    let timer = setTimeout(done, 150);
    addEventListener("scroll", () => { clearTimeout(timer); timer = setTimeout(done, 150); },
                     { passive: true });
})"""

FETCHES = """() => performance.getEntriesByType("resource")
    .filter((e) => e.initiatorType === "xmlhttprequest").map((e) => e.duration)"""


def configured_delays() -> dict[str, int]:
    source = CARDS_JS.read_text(encoding="utf-8")
    found = dict(re.findall(r"const (\w+_DELAY) = (\d+);", source))
    return {name: int(value) for name, value in found.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, check=True, capture_output=True
    )


@contextmanager
def demo_server():
    """The demo, every mention linked, served by runserver on a free loopback port."""
    with tempfile.TemporaryDirectory(prefix="cards-bench-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
        env.pop("REDIS_URL", None)  # stay on loopback, with the local-memory cache
        manage("migrate", "--noinput", env=env)
        manage("load_demo", env=env)
        manage(
            "shell",
            "-c",
            "from explainer.models import Article\n"
            "for article in Article.objects.all():\n"
            "    article.link_every_mention = True\n"
            "    article.save()\n",
            env=env,
        )
        port = free_port()
        with open(Path(tmp) / "server.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_up(port, server)
                yield port
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited before it answered")
        try:
            get(port, "/")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer within 30 s")


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
    """One GET on a fresh loopback connection: status, body and seconds to the last byte."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        connection.close()


def story_path(port: int) -> str:
    _, body, _ = get(port, "/")
    return re.search(r'href="(/stories/[^"]+/)"', body.decode()).group(1)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit(f"no Chromium at {path} (set CHROMIUM_PATH)")
    return path


def hover_times(url: str) -> tuple[list[dict], list[float], str]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        version = browser.version
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(url)
        mentions = page.locator(".story-body a.mention[data-entry]")
        count = min(HOVERS, mentions.count())
        if count < 30:
            raise SystemExit(f"only {count} mentions to hover; the bench needs 30")
        seen: set[str] = set()
        results = []
        for index in range(count):
            mention = mentions.nth(index)
            mention.scroll_into_view_if_needed()
            page.evaluate(SETTLE)  # cards.js ignores hovers while the page scrolls
            page.evaluate(ARM, index)
            point = mention.evaluate(FIRST_LINE)
            page.mouse.move(point["x"], point["y"])
            timing = page.evaluate(PAINTED)
            if not timing.get("painted"):
                raise SystemExit(f"no card within 5 s of hovering mention {index} ({timing})")
            timing["first"] = timing["slug"] not in seen
            seen.add(timing["slug"])
            results.append(timing)
            page.keyboard.press("Escape")
            page.mouse.move(2, 2)
        fetches = page.evaluate(FETCHES)
        browser.close()
    return results, fetches, version


def server_times(port: int, card_paths: list[str]) -> tuple[list[float], list[float]]:
    htmx = {"HX-Request": "true"}
    static = "/static/explainer/site.css"
    for number in range(WARMUP):
        get(port, card_paths[number % len(card_paths)], htmx)
        get(port, static)
    cards, files = [], []
    for number in range(SERVER_REQUESTS):  # interleaved, so both see the same conditions
        status, body, seconds = get(port, card_paths[number % len(card_paths)], htmx)
        assert status == 200 and b'class="context-card"' in body, status
        cards.append(seconds * 1000)
        status, _, seconds = get(port, static)
        assert status == 200, status
        files.append(seconds * 1000)
    return cards, files


def row(label: str, values: list[float]) -> str:
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"{label:<48}{len(values):>5}{p50:>10.1f}{p95:>10.1f}"


def main() -> None:
    started = time.monotonic()
    delays = configured_delays()
    show = delays["SHOW_DELAY"]
    with demo_server() as port:
        path = story_path(port)
        hovers, fetches, version = hover_times(f"http://127.0.0.1:{port}{path}")
        _, page, _ = get(port, path)
        card_paths = sorted(set(re.findall(r'class="mention[^"]*" href="([^"]+)"', page.decode())))
        cards, files = server_times(port, card_paths)

    total = [h["painted"] - h["start"] for h in hovers]
    first = [h["painted"] - h["start"] for h in hovers if h["first"]]
    repeat = [h["painted"] - h["start"] for h in hovers if not h["first"]]
    print(f"Context cards bench: Chromium {version}, runserver on 127.0.0.1, demo story")
    print(
        "cards.js delays: fetch after {FETCH_DELAY} ms of dwell, show after {SHOW_DELAY} ms, "
        "close {CLOSE_DELAY} ms after leaving".format(**delays)
    )
    print()
    print(f"{'measure (ms)':<48}{'n':>5}{'p50':>10}{'p95':>10}")
    print(row("hover -> card visible, all", total))
    print(row(f"  beyond the {show} ms intent delay", [t - show for t in total]))
    print(row("  first open of an entry (fetched in the dwell)", first))
    print(row("  repeat open (card reused, no request)", repeat))
    print(row("card fetch in the browser (Resource Timing)", fetches))
    print(row("server: card GET with HX-Request", cards))
    print(row("server: static /static/explainer/site.css", files))
    ratio = statistics.median(cards) / statistics.median(files)
    print(f"card / static, p50: {ratio:.1f}x   ({len(card_paths)} different cards, loopback)")
    print(f"distinct mentions hovered: {len(hovers)}; wall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
