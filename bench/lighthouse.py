"""Lighthouse's four scores for the reader pages (`make bench`, or on its own).

    .venv/bin/python bench/lighthouse.py

Installs Lighthouse from the npm registry into bench/.lighthouse/ the first time (a pinned
release that runs on this machine's Node.js 20), serves the demo as `make serve` does
(gunicorn, debug off, WhiteNoise, a scratch SQLite database), and runs Lighthouse's mobile
audit in the system Chromium on each reader page. It prints performance, accessibility,
best practices and SEO (0-100, the target is 100 on each) and the cumulative layout shift.
A score is a judgement of the page, not a time, so it needs no in-run baseline.

Nothing leaves 127.0.0.1 once Lighthouse is installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402
    BenchError,
    django_env,
    fetch_ok,
    gunicorn,
    manage,
    prepare_database,
)

LIGHTHOUSE_VERSION = "12.2.3"  # 13 wants Node.js 22; this machine has 20
INSTALL_DIR = Path(__file__).resolve().parent / ".lighthouse"
LIGHTHOUSE = INSTALL_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def ensure_lighthouse() -> Path:
    installed = INSTALL_DIR / "node_modules" / "lighthouse" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == LIGHTHOUSE_VERSION:
        return LIGHTHOUSE
    npm = shutil.which("npm")
    if npm is None:
        raise BenchError("npm not found: install Node.js and npm to run Lighthouse")
    print(f"Installing lighthouse@{LIGHTHOUSE_VERSION} into {INSTALL_DIR} ...")
    INSTALL_DIR.mkdir(exist_ok=True)
    (INSTALL_DIR / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "-E", f"lighthouse@{LIGHTHOUSE_VERSION}"],
        cwd=INSTALL_DIR,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return LIGHTHOUSE


def reader_pages(base: str) -> dict[str, str]:
    home = fetch_ok(f"{base}/").body.decode()
    story = re.search(r'href="(/stories/[^"?#]+/)"', home)
    if story is None:
        raise BenchError("the home page links no story")
    page = fetch_ok(base + story.group(1)).body.decode()
    # A mention's link (the stored page may write it in full, on the site's address).
    entry = re.search(
        r'class="mention[^"]*"[^>]*href="[^"]*?(/(?:actors|background)/[^"?#/]+/)', page
    )
    entry = entry or re.search(r"(/(?:actors|background)/[-\w]+/)\?as_of=", page)
    pages = {"Front page": "/", "Story": story.group(1)}
    if entry:
        pages["Entry page"] = entry.group(1)
    pages["Search"] = "/search/?q=kim+jong"
    for index in ("/actors/", "/background/"):
        with contextlib.suppress(Exception):
            if fetch_ok(base + index).status == 200:
                pages[f"Index {index}"] = index
    return pages


def audit(lighthouse: Path, url: str, workdir: Path) -> dict[str, float]:
    report = workdir / "report.json"
    completed = subprocess.run(
        [
            str(lighthouse),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0 or not report.exists():
        raise BenchError(f"lighthouse failed on {url}:\n{completed.stderr[-2000:]}")
    data = json.loads(report.read_text())
    scores = {name: round(100 * (data["categories"][name]["score"] or 0)) for name in CATEGORIES}
    scores["cls"] = data["audits"]["cumulative-layout-shift"]["numericValue"]
    # Outside performance (whose audits are timings), the weighted audits not passed.
    scores["failing"] = sorted(
        ref["id"]
        for name in CATEGORIES
        if name != "performance"
        for ref in data["categories"][name]["auditRefs"]
        if ref["weight"]
        and (data["audits"][ref["id"]]["score"] or 0) < 1
        and data["audits"][ref["id"]]["score"] is not None
    )
    return scores


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"No Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        lighthouse = ensure_lighthouse()
    except (BenchError, subprocess.SubprocessError) as error:
        print(f"Lighthouse could not be installed: {error}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="explainer-lighthouse-"))
    try:
        env = django_env(
            database_url=f"sqlite:///{workdir / 'db.sqlite3'}",
            secret_key=secrets.token_urlsafe(50),
        )
        print(f"Preparing {workdir}/db.sqlite3 (migrate, load_demo) and collectstatic ...")
        prepare_database(env)
        manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        with gunicorn(name="lighthouse", env=env, workdir=workdir) as server:
            pages = reader_pages(server.url)
            print(f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile, Chromium at {CHROMIUM}; target 100")
            header = f"{'page':<22}" + "".join(f"{name:>16}" for name in CATEGORIES)
            print(header + f"{'CLS':>8}")
            below = 0
            for label, path in pages.items():
                scores = audit(lighthouse, server.url + path, workdir)
                below += sum(scores[name] < 100 for name in CATEGORIES)
                print(
                    f"{label:<22}"
                    + "".join(f"{scores[name]:>16}" for name in CATEGORIES)
                    + f"{scores['cls']:>8.3f}"
                )
                if scores["failing"]:
                    print(f"{'':<22}not passed: {', '.join(scores['failing'])}")
            print(f"\n{below} scores below 100 over {len(pages)} pages")
    except BenchError as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
