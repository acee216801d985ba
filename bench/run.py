"""Server and linker benchmarks (`make bench`).

Every figure is a ratio against a baseline measured in the same run on the same machine, so
the ratios compare across machines; nothing here asserts a time. Four measurements:

1. Throughput under the production setup (gunicorn as `make serve` starts it, WhiteNoise,
   a fresh SQLite database with the demo loaded): the story page with a warm and with a
   disabled cache, against a minimal Django view, against a static file.
2. Linking scale, in process: finding and marking mentions as the library and the text grow.
3. Page weight of the story page and every stylesheet and script it loads.
4. A 60-second load test of the story page on SQLite, then on PostgreSQL with Redis.

Only loopback traffic. Servers run in their own process groups and are stopped on the way
out, whatever happens (Ctrl-C included). `--quick` shortens every duration to try it out.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import itertools
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explainer.importing import parse_story  # noqa: E402
from explainer.linking import (  # noqa: E402
    Link,
    Matcher,
    Term,
    find_mentions,
    mark_mentions,
    normalize_alias,
    parse_html,
)
from explainer.sanitize import sanitize_body_html  # noqa: E402

BIN = Path(sys.executable).parent
LUA_SCRIPT = Path(__file__).resolve().parent / "latency.lua"
DEMO_DIR = ROOT / "explainer" / "demo"
SEED_STORY = DEMO_DIR / "korea-times-2019-04-25-kim-putin-summit.txt"
CONTEXT_LIBRARY = DEMO_DIR / "context_library.json"
STORY_PATH = "/stories/kim-jong-un-putin-discuss-how-to-handle-us/"
POSTGRES_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"]
REDIS_URL = "redis://127.0.0.1:6379/14"
PAGE_BUDGET = 60 * 1024  # bytes, gzipped, htmx included
NPROC = len(os.sched_getaffinity(0))  # what `nproc` prints, and so `make serve`'s workers
WRK_THREADS = max(1, min(NPROC, 4))
# gunicorn's default access-log line: ... "GET /path HTTP/1.1" 200 1234 ...
ACCESS_LOG_STATUS = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3}) ')


class BenchError(RuntimeError):
    """Something the benchmark needs is missing or broken (not a slow result)."""


@dataclass(frozen=True)
class Durations:
    warmup: int
    throughput: int
    load: int
    link_repeats: int
    rounds: int  # each URL's throughput time is split into this many interleaved runs


FULL = Durations(warmup=2, throughput=10, load=60, link_repeats=7, rounds=2)
QUICK = Durations(warmup=1, throughput=3, load=3, link_repeats=3, rounds=1)


# --- the summary -------------------------------------------------------------------------


@dataclass
class Row:
    measurement: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    status: str  # PASS, MISS, INFO or ERROR


def judged(
    measurement: str, value: str, baseline: str, ratio: float, target: tuple[str, float]
) -> Row:
    operator, limit = target
    ok = ratio >= limit if operator == ">=" else ratio <= limit
    return Row(
        measurement, value, baseline, ratio, f"{operator} {limit:g}", "PASS" if ok else "MISS"
    )


def info(measurement: str, value: str, baseline: str, ratio: float | None) -> Row:
    return Row(measurement, value, baseline, ratio, "—", "INFO")


def failed(measurement: str, reason: str) -> Row:
    return Row(measurement, reason, "—", None, "—", "ERROR")


def table_cells(rows: list[Row]) -> list[list[str]]:
    header = ["Measurement", "Value", "Baseline", "Ratio", "Target", "Result"]
    body = [
        [
            row.measurement,
            row.value,
            row.baseline,
            "—" if row.ratio is None else f"{row.ratio:.2f}",
            row.target,
            row.status,
        ]
        for row in rows
    ]
    return [header, *body]


def print_table(cells: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    for number, line in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def print_markdown(cells: list[list[str]]) -> None:
    header, *body = cells
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for line in body:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def rps(value: float) -> str:
    return f"{value:,.0f} req/s"


def kib(size: int) -> str:
    return f"{size / 1024:.1f} KB"


# --- wrk ---------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package if it is missing (the benchmark runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed; installing Debian's package with apt-get ...", flush=True)
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise BenchError("wrk is missing. Install it (Debian: apt-get install -y wrk) and rerun.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = subprocess.run(
        ["apt-cache", "policy", "wrk"], capture_output=True, text=True, timeout=60, check=False
    )
    if "Candidate:" not in policy.stdout or "Candidate: (none)" in policy.stdout:
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=300, check=False)
    install = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = shutil.which("wrk")
    if not found:
        raise BenchError(
            "wrk is missing and `apt-get install -y wrk` failed:\n"
            + (install.stderr or install.stdout).strip()
            + "\nInstall wrk by hand and rerun."
        )
    return found


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    socket_errors: int
    status_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: Counter  # from the server's access log: what it answered, by status

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not status.startswith("2"))


def run_wrk(
    wrk: str, *, url: str, connections: int, seconds: int, access_log: Path | None = None
) -> WrkResult:
    offset = access_log.stat().st_size if access_log else 0
    command = [
        wrk,
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "2s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {url}:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("BENCH-RESULT "))
    errors = data["errors"]
    latency = data["latency_us"]
    statuses: Counter = Counter()
    if access_log:
        time.sleep(0.5)  # let the workers log the last responses
        with access_log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        statuses.update(match.group(1) for match in ACCESS_LOG_STATUS.finditer(text))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        status_errors=errors["status"],
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        statuses=statuses,
    )


# --- HTTP from Python --------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is a finding, not something to follow


# No proxies: every request stays on the loopback whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, *, headers: dict[str, str] | None = None) -> Fetched:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, dict(error.headers.items()), error.read())


def fetch_ok(url: str, **kwargs) -> Fetched:
    fetched = fetch(url, **kwargs)
    if fetched.status != 200:
        raise BenchError(f"GET {url} answered {fetched.status}, not 200.")
    return fetched


class _Assets(HTMLParser):
    """The stylesheets and scripts a page loads, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and "stylesheet" in (values.get("rel") or "").split():
            if values.get("href"):
                self.urls.append(values["href"])
        elif tag == "script" and values.get("src"):
            self.urls.append(values["src"])


def page_assets(html_text: str) -> list[str]:
    parser = _Assets()
    parser.feed(html_text)
    return parser.urls


# --- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def django_env(*, database_url: str, secret_key: str, **extra: str) -> dict[str, str]:
    """The production settings of `make serve`, on the given database; nothing inherited
    from the caller's environment can change which database or cache is used."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_HTTPS="false",
        DJANGO_SECRET_KEY=secret_key,
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{completed.stderr.strip()}")


def prepare_database(env: dict[str, str]) -> None:
    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    manage("load_demo", env=env)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def stop(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it does not go quietly."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if server.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=grace)


@contextlib.contextmanager
def gunicorn(*, name: str, env: dict[str, str], workdir: Path) -> Iterator[Server]:
    """gunicorn as `make serve` runs it (one worker per core, access log on), on a free
    loopback port; stopped when the block ends."""
    port = free_port()
    log_path = workdir / f"gunicorn-{name}.log"
    command = [
        str(BIN / "gunicorn"),
        "explainer.wsgi",
        "--workers",
        str(NPROC),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(name=name, port=port, process=process, log_path=log_path)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop(server)


def wait_until_up(server: Server, *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.1) + 1):
        if server.process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            # Not /healthz: it answers 503 whenever the cache is the dummy one.
            if fetch(f"{server.url}/robots.txt").status == 200:
                return
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    tail = server.log_path.read_text(errors="replace")[-2000:]
    raise BenchError(f"gunicorn ({server.name}) did not come up on {server.url}:\n{tail}")


def warm(url: str, *, requests: int) -> None:
    """Sequential requests, so that every worker has filled its own local-memory cache."""
    for _ in range(requests):
        fetch_ok(url)


def story_url(server: Server) -> str:
    home = fetch_ok(f"{server.url}/").body.decode()
    found = re.search(r'href="(/stories/[^"]+/)"', home)
    return f"{server.url}{found.group(1) if found else STORY_PATH}"


# --- 1. throughput -----------------------------------------------------------------------


def measure_throughput(
    wrk: str, *, warm_server: Server, cold_server: Server, durations: Durations
) -> list[Row]:
    per_run = durations.throughput // durations.rounds
    heading(
        f"1. Throughput: gunicorn, {NPROC} workers; wrk -t{WRK_THREADS} -c20, "
        f"{durations.throughput}s per URL in {durations.rounds} interleaved runs of {per_run}s"
    )
    story = story_url(warm_server)
    page = fetch_ok(story).body.decode()
    stylesheet = next((url for url in page_assets(page) if "site." in url), None)
    if stylesheet is None:
        raise BenchError("The story page links no site.css stylesheet.")
    targets = {
        "minimal": f"{warm_server.url}/robots.txt",
        "static": urljoin(story, stylesheet),
        "story-warm": story,
        "story-cold": story.replace(warm_server.url, cold_server.url, 1),
    }
    for url in targets.values():
        fetch_ok(url)
    warm(targets["story-warm"], requests=10 * NPROC)
    for url in targets.values():
        run_wrk(wrk, url=url, connections=20, seconds=durations.warmup)
    # Taking turns, so that load from elsewhere on the machine falls on every URL alike.
    runs: dict[str, list[WrkResult]] = {label: [] for label in targets}
    for _ in range(durations.rounds):
        for label, url in targets.items():
            runs[label].append(run_wrk(wrk, url=url, connections=20, seconds=per_run))
    results = {
        label: sum(r.requests for r in done) / sum(r.seconds for r in done)
        for label, done in runs.items()
    }
    print(f"{'URL':<12}{'req/s':>9}{'per run':>18}{'errors':>8}  address")
    for label, done in runs.items():
        errors = sum(r.socket_errors + r.status_errors for r in done)
        each = " / ".join(f"{r.rps:,.0f}" for r in done)
        print(f"{label:<12}{results[label]:>9,.0f}{each:>18}{errors:>8}  {targets[label]}")
    minimal, static = results["minimal"], results["static"]
    warm_rps, cold_rps = results["story-warm"], results["story-cold"]
    return [
        judged(
            "Story page, warm cache / minimal view",
            rps(warm_rps),
            rps(minimal),
            warm_rps / minimal,
            (">=", 0.5),
        ),
        judged(
            "Story page, cache disabled / minimal view",
            rps(cold_rps),
            rps(minimal),
            cold_rps / minimal,
            (">=", 0.2),
        ),
        info(
            "Minimal view (/robots.txt) / static file", rps(minimal), rps(static), minimal / static
        ),
    ]


# --- 2. linking scale --------------------------------------------------------------------

# Filler names for a big library: distinct, never in the story, but several start like words
# that are (the, north korea, president), so the trie walks partway down them as it would in
# a real library of thousands of entries.
GENERATED_NAMES = (
    "Person Name {n}",
    "Org {n} Ministry",
    "The {n} Group",
    "North Korea {n} Committee",
    "President {n}",
)


def library_aliases() -> list[Term]:
    """The demo's aliases (names included), one term per phrase as the Alias table keeps them."""
    data = json.loads(CONTEXT_LIBRARY.read_text(encoding="utf-8"))
    seen: set[str] = set()
    terms: list[Term] = []
    for group, label_field in (("actors", "name"), ("notes", "title")):
        for item in data.get(group, []):
            for spec in [{"text": item[label_field]}, *item.get("aliases", [])]:
                key = normalize_alias(spec["text"])
                if not key or key in seen:
                    continue
                seen.add(key)
                terms.append(
                    Term(
                        text=spec["text"],
                        target=item["slug"],
                        case_sensitive=bool(spec.get("case_sensitive", False)),
                    )
                )
    return terms


def terms_for(count: int, real: list[Term]) -> list[Term]:
    terms = real[:count]
    for n in range(count - len(terms)):
        pattern = GENERATED_NAMES[n % len(GENERATED_NAMES)]
        terms.append(Term(text=pattern.format(n=1000 + n), target=f"generated-{n}"))
    if len({normalize_alias(term.text) for term in terms}) != count:
        raise BenchError(f"The {count}-alias library has duplicate phrases.")
    return terms


def link_story(body: str, matcher: Matcher) -> int:
    """What relinking does to a body without the database: parse, find, link each entry's
    first mention, mark. Returns the number of hits."""
    parsed = parse_html(body)
    hits = find_mentions(parsed=parsed, matcher=matcher)
    seen: set[str] = set()
    links = []
    for hit in hits:
        if hit.targets[0] not in seen:
            seen.add(hit.targets[0])
            links.append(Link(start=hit.start, end=hit.end, href=f"/actors/{hit.targets[0]}/"))
    mark_mentions(parsed=parsed, links=links)
    return len(hits)


K = TypeVar("K")


def time_interleaved(
    functions: dict[K, Callable[[], object]], *, repeats: int
) -> dict[K, tuple[float, float]]:
    """(median, best) seconds per call of each function. Each sample loops until it lasts
    at least 20 ms, as timeit does, with the garbage collector off; the functions take turns
    in every round, so a burst of load from elsewhere on the machine hits them all alike."""
    loops: dict[K, int] = {}
    for key, function in functions.items():
        loops[key] = 1
        for _ in range(12):  # at most 2**11 loops per sample
            started = time.perf_counter()
            for _ in range(loops[key]):
                function()
            if time.perf_counter() - started >= 0.02:
                break
            loops[key] *= 2
    samples: dict[K, list[float]] = {key: [] for key in functions}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for key, function in functions.items():
                started = time.perf_counter()
                for _ in range(loops[key]):
                    function()
                samples[key].append((time.perf_counter() - started) / loops[key])
    finally:
        if gc_was_enabled:
            gc.enable()
    return {key: (statistics.median(times), min(times)) for key, times in samples.items()}


def measure_linking(durations: Durations) -> list[Row]:
    heading(
        f"2. Linking scale: parse + find + mark, in process, median of "
        f"{durations.link_repeats} samples"
    )
    story = parse_story(SEED_STORY.read_text(encoding="utf-8"))
    body = sanitize_body_html(story.body_html)
    real = library_aliases()
    libraries = {count: terms_for(count, real) for count in (100, 1_000, 10_000)}
    matchers = {count: Matcher(terms) for count, terms in libraries.items()}
    print(f"Seed story body: {len(body):,} characters of sanitized HTML; {len(real)} real aliases")

    cases = [(100, 1), (1_000, 1), (10_000, 1), (1_000, 10), (1_000, 100)]
    texts = {copies: "\n".join([body] * copies) for copies in (1, 10, 100)}
    hit_counts = {case: link_story(texts[case[1]], matchers[case[0]]) for case in cases}
    measured = time_interleaved(
        {
            (aliases, copies): (
                lambda text=texts[copies], matcher=matchers[aliases]: link_story(text, matcher)
            )
            for aliases, copies in cases
        },
        repeats=durations.link_repeats,
    )
    timings = {case: (*measured[case], hit_counts[case], len(texts[case[1]])) for case in cases}
    base = timings[100, 1][0]
    per_char_base = timings[1_000, 1][0] / timings[1_000, 1][3]
    print(
        f"{'aliases':>8}{'body':>6}{'chars':>10}{'hits':>7}{'median ms':>11}{'best ms':>10}"
        f"{'vs 100/1x':>11}{'per char vs 1x':>16}"
    )
    for (aliases, copies), (median, best, hits, chars) in timings.items():
        per_char = (median / chars) / per_char_base if aliases == 1_000 else None
        print(
            f"{aliases:>8,}{copies:>5}x{chars:>10,}{hits:>7,}{median * 1e3:>11.2f}"
            f"{best * 1e3:>10.2f}{median / base:>11.2f}"
            + (f"{per_char:>16.2f}" if per_char is not None else f"{'':>16}")
        )

    built = time_interleaved(
        {count: (lambda terms=terms: Matcher(terms)) for count, terms in libraries.items()},
        repeats=durations.link_repeats,
    )
    builds = {count: median for count, (median, _) in built.items()}
    print("\nBuilding the Matcher (a separate, per-relink-batch cost):")
    for count, seconds in builds.items():
        print(
            f"{count:>8,} aliases {seconds * 1e3:>9.2f} ms  {seconds / builds[100]:>7.1f}x "
            f"the 100-alias build, {seconds / count * 1e6:.2f} µs per alias"
        )

    def ms(key: tuple[int, int]) -> str:
        return f"{timings[key][0] * 1e3:.2f} ms"

    def per_char_ratio(copies: int) -> float:
        median, _, _, chars = timings[1_000, copies]
        return (median / chars) / per_char_base

    def per_char(copies: int) -> str:
        median, _, _, chars = timings[1_000, copies]
        return f"{median / chars * 1e9:.0f} ns/char"

    return [
        info("Linking, 1,000 aliases / 100 (1x body)", ms((1_000, 1)), ms((100, 1)),
             timings[1_000, 1][0] / base),
        judged("Linking, 10,000 aliases / 100 (1x body)", ms((10_000, 1)), ms((100, 1)),
               timings[10_000, 1][0] / base, ("<=", 3.0)),
        info("Linking, 10x body / 100-alias 1x", ms((1_000, 10)), ms((100, 1)),
             timings[1_000, 10][0] / base),
        info("Linking, 100x body / 100-alias 1x", ms((1_000, 100)), ms((100, 1)),
             timings[1_000, 100][0] / base),
        judged("Linking cost per character, 10x body / 1x", per_char(10), per_char(1),
               per_char_ratio(10), ("<=", 1.5)),
        judged("Linking cost per character, 100x body / 1x", per_char(100), per_char(1),
               per_char_ratio(100), ("<=", 1.5)),
        info("Matcher build, 1,000 aliases / 100", f"{builds[1_000] * 1e3:.2f} ms",
             f"{builds[100] * 1e3:.2f} ms", builds[1_000] / builds[100]),
        info("Matcher build, 10,000 aliases / 100", f"{builds[10_000] * 1e3:.2f} ms",
             f"{builds[100] * 1e3:.2f} ms", builds[10_000] / builds[100]),
    ]  # fmt: skip


# --- 3. page weight ----------------------------------------------------------------------


def measure_page_weight(server: Server) -> list[Row]:
    heading("3. Page weight: the story page and every stylesheet and script it loads")
    story = story_url(server)
    page = fetch_ok(story)
    files = [(story, page.body)]
    for address in page_assets(page.body.decode()):
        url = urljoin(story, address)
        files.append((url, fetch_ok(url).body))
    print(f"{'raw':>10}{'gzip -6':>10}{'served':>10}  file ('served': Accept-Encoding: gzip)")
    total_raw = total_gzip = total_served = 0
    for url, body in files:
        packed = len(gzip.compress(body, compresslevel=6))
        served = fetch_ok(url, headers={"Accept-Encoding": "gzip"})
        encoding = served.headers.get("Content-Encoding", "identity")
        total_raw, total_gzip = total_raw + len(body), total_gzip + packed
        total_served += len(served.body)
        name = url.removeprefix(server.url)
        print(f"{len(body):>10,}{packed:>10,}{len(served.body):>10,}  {name} [{encoding}]")
    print(f"{total_raw:>10,}{total_gzip:>10,}{total_served:>10,}  total ({len(files)} files)")
    return [
        judged(
            "Page weight, gzipped total / budget",
            kib(total_gzip),
            kib(PAGE_BUDGET),
            total_gzip / PAGE_BUDGET,
            ("<=", 1.0),
        )
    ]


# --- 4. load test ------------------------------------------------------------------------


def load_test(wrk: str, *, server: Server, durations: Durations) -> WrkResult:
    story = story_url(server)
    warm(story, requests=10 * NPROC)
    run_wrk(wrk, url=story, connections=50, seconds=durations.warmup)
    return run_wrk(
        wrk, url=story, connections=50, seconds=durations.load, access_log=server.log_path
    )


def print_load(label: str, result: WrkResult) -> None:
    statuses = ", ".join(f"{code}: {count:,}" for code, count in sorted(result.statuses.items()))
    print(
        f"{label:<22}{result.requests:>9,}{result.rps:>9,.0f}{result.p50_ms:>8.1f}"
        f"{result.p95_ms:>8.1f}{result.p99_ms:>8.1f}{result.socket_errors:>8}"
        f"{result.status_errors:>8}  {statuses}"
    )


def load_rows(label: str, result: WrkResult) -> list[Row]:
    errors = result.socket_errors + result.status_errors + result.non_2xx
    latency = f"p50/p95/p99 {result.p50_ms:.0f}/{result.p95_ms:.0f}/{result.p99_ms:.0f} ms"
    return [
        Row(
            f"Load test {label}: errors (socket + non-2xx)",
            f"{errors:,} of {result.requests:,}",
            "—",
            None,
            "0 errors",
            "PASS" if errors == 0 else "MISS",
        ),
        info(f"Load test {label}: {latency}", rps(result.rps), "—", None),
    ]


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A scratch PostgreSQL database on the loopback, dropped when the block ends."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}

    def psql(sql: str) -> None:
        completed = subprocess.run(
            [*POSTGRES_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc", sql],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchError(f"psql failed ({sql}): {completed.stderr.strip()}")

    if not shutil.which("psql"):
        raise BenchError("psql is not installed, so the PostgreSQL load test cannot run.")
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def clear_redis_keys() -> None:
    """Remove the keys this run's servers wrote to Redis database 14 (prefix "explainer")."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    keys = list(itertools.islice(client.scan_iter("explainer:*", count=1000), 100_000))
    if keys:
        client.delete(*keys)


# --- the run -----------------------------------------------------------------------------


def machine_line(wrk: str) -> str:
    import django
    import gunicorn as gunicorn_package

    version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False, timeout=10)
    wrk_version = (version.stdout or version.stderr).split("\n")[0].split(" [")[0]
    return (
        f"{platform.node()}: {NPROC} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, gunicorn {gunicorn_package.__version__}, {wrk_version}"
    )


def load_average() -> str:
    """Other work on the machine moves every figure; the load average says how much there was."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(durations: Durations) -> list[Row]:
    wrk = ensure_wrk()
    print(machine_line(wrk))
    print(f"At the start: {load_average()} (1, 5, 15 min)")
    rows: list[Row] = []

    secret_key = secrets.token_urlsafe(50)
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="explainer-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        sqlite_env = django_env(
            database_url=f"sqlite:///{workdir / 'db.sqlite3'}", secret_key=secret_key
        )
        print(f"\nPreparing {workdir}/db.sqlite3 (migrate, load_demo) and collectstatic ...")
        prepare_database(sqlite_env)
        manage("collectstatic", "--noinput", "--verbosity", "0", env=sqlite_env)

        with gunicorn(name="sqlite", env=sqlite_env, workdir=workdir) as warm_server:
            with gunicorn(
                name="sqlite-nocache",
                env={**sqlite_env, "DJANGO_CACHE_DISABLED": "true"},
                workdir=workdir,
            ) as cold_server:
                rows += measure_throughput(
                    wrk, warm_server=warm_server, cold_server=cold_server, durations=durations
                )
            rows += measure_linking(durations)  # in this process; the server is idle
            rows += measure_page_weight(warm_server)
            heading(
                f"4. Load test: story page, wrk -t{WRK_THREADS} -c50 -d{durations.load}s "
                f"(statuses from gunicorn's access log)"
            )
            print(
                f"{'':<22}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
                f"{'socket':>8}{'>=400':>8}  statuses"
            )
            sqlite_result = load_test(wrk, server=warm_server, durations=durations)
            print_load("SQLite, local memory", sqlite_result)
        rows += load_rows("SQLite", sqlite_result)

        try:
            with postgres_database(f"explainer_bench_{os.getpid()}") as database_url:
                postgres_env = django_env(
                    database_url=database_url, secret_key=secret_key, REDIS_URL=REDIS_URL
                )
                prepare_database(postgres_env)
                try:
                    with gunicorn(name="postgres", env=postgres_env, workdir=workdir) as server:
                        postgres_result = load_test(wrk, server=server, durations=durations)
                finally:
                    with contextlib.suppress(Exception):
                        clear_redis_keys()
            print_load("PostgreSQL, Redis", postgres_result)
            rows += load_rows("PostgreSQL", postgres_result)
            rows.append(
                info(
                    "Load test rps, PostgreSQL / SQLite",
                    rps(postgres_result.rps),
                    rps(sqlite_result.rps),
                    postgres_result.rps / sqlite_result.rps,
                )
            )
        except BenchError as error:
            print(f"PostgreSQL load test not run: {error}", file=sys.stderr)
            rows.append(failed("Load test PostgreSQL", "not run (see above)"))
    return rows


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers stop, DB drops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="shorten every duration (3 s runs) to try it out"
    )
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    durations = QUICK if options.quick else FULL
    started = time.monotonic()
    try:
        rows = run(durations)
    except BenchError as error:
        print(f"\nbench/run.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench/run.py: interrupted; its servers are stopped.", file=sys.stderr)
        return 130
    kind = "quick" if options.quick else "full"
    heading(
        f"Summary ({kind} run, {time.monotonic() - started:.0f} s; at the end: {load_average()})"
    )
    cells = table_cells(rows)
    print_table(cells)
    print("\nMarkdown:\n")
    print_markdown(cells)
    return 1 if any(row.status == "ERROR" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
