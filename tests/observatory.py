"""Mozilla's HTTP Observatory scoring (MDN's scanner, algorithm version 4) of one page's
responses, as plain functions: no network, no Django.

Ported from MDN, "HTTP Observatory: tests and scoring"
(https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring), and the scanner
that page documents (https://github.com/mdn/mdn-http-observatory): the modifiers are
``src/grader/charts.js``'s ``SCORE_TABLE``, each test follows
``src/analyzer/tests/<test>.js``, and the sum ``src/scanner/index.js``. Every site starts
at 100; the penalties are taken first and, only if that leaves 90 (an A) or more, the
bonuses are added; 100 or more is an A+.

Left out, because a test run cannot know them: the HSTS preload list (``hsts-preloaded``,
+5, is given for a host on the browsers' list, not for the header's ``preload``), redirect
chains longer than the first hop, and ``<meta http-equiv>`` policies (our pages send
headers only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

MODIFIERS = {
    # Content Security Policy
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    # Cookies
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    # Cross-origin resource sharing
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    # Redirection
    "redirection-to-https": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    # Referrer-Policy
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    # Strict-Transport-Security
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    # Subresource integrity
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    # X-Content-Type-Options
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    # X-Frame-Options
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    # Cross-Origin-Resource-Policy
    "corp-implemented-with-same-origin": 10,
    "corp-implemented-with-same-site": 10,
    "corp-implemented-with-cross-origin": 0,
    "corp-not-implemented": 0,
    "corp-header-invalid": -5,
}
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
# The grade of a score rounded down to a multiple of 5, 100 and above being A+.
GRADES = {100: "A+", 95: "A", 90: "A", 85: "A-", 80: "B+", 75: "B", 70: "B", 65: "B-"}
GRADES |= {60: "C+", 55: "C", 50: "C", 45: "C-", 40: "D+", 35: "D", 30: "D", 25: "D-"}
# The Origin the scanner sends to see whether a page shares itself across origins.
CORS_ORIGIN = "https://http-observatory.security.mozilla.org"
# Six months is 15,768,000 seconds; the scanner accepts 15,552,000 (180 days).
SIX_MONTHS = 15_552_000

DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*"}
DANGEROUSLY_BROAD |= {"https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
PASSIVE_DIRECTIVES = ("img-src", "media-src")
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")


@dataclass(frozen=True)
class Page:
    """What the scanner fetches of a page: its response over https and where the same
    address over plain http first redirects to ("" for no redirect)."""

    url: str
    headers: dict[str, str]
    set_cookies: list[str] = field(default_factory=list)
    html: str = ""
    http_redirects_to: str = ""


@dataclass(frozen=True)
class Scan:
    """Each test's result, and what the CSP and HSTS tests found on the way."""

    results: dict[str, str]
    csp: dict[str, bool]
    hsts: dict[str, int | bool]

    @property
    def modifiers(self) -> dict[str, int]:
        return {test: MODIFIERS[result] for test, result in self.results.items()}

    @property
    def score(self) -> int:
        penalised = 100 + sum(modifier for modifier in self.modifiers.values() if modifier < 0)
        if penalised < MINIMUM_SCORE_FOR_EXTRA_CREDIT:
            return max(penalised, 0)
        return 100 + sum(self.modifiers.values())

    @property
    def grade(self) -> str:
        return GRADES.get(min(self.score - self.score % 5, 100), "F")

    def report(self) -> str:
        lines = [f"{self.score} ({self.grade})"]
        lines += [f"{MODIFIERS[result]:+4d} {result}" for result in self.results.values()]
        return "\n".join(lines)


def scan(page: Page) -> Scan:
    headers = {name.lower(): value for name, value in page.headers.items()}
    csp_result, csp_flags, policy = content_security_policy(headers, url=page.url)
    hsts_result, hsts = strict_transport_security(headers)
    return Scan(
        results={
            "content-security-policy": csp_result,
            "cookies": cookies(
                page.set_cookies, hsts=hsts_result == "hsts-implemented-max-age-at-least-six-months"
            ),
            "cross-origin-resource-sharing": cross_origin_resource_sharing(headers),
            "redirection": redirection(url=page.url, redirects_to=page.http_redirects_to),
            "referrer-policy": referrer_policy(headers),
            "strict-transport-security": hsts_result,
            "subresource-integrity": subresource_integrity(headers, html=page.html, url=page.url),
            "x-content-type-options": x_content_type_options(headers),
            "x-frame-options": x_frame_options(headers, policy=policy),
            "cross-origin-resource-policy": cross_origin_resource_policy(headers),
        },
        csp=csp_flags,
        hsts=hsts,
    )


def parse_csp(header: str) -> dict[str, set[str]]:
    """One policy's directives and their (lower-cased) sources; ValueError if the scanner
    would call it invalid."""
    if "," in header:
        raise NotImplementedError("several policies in one response are not modelled")
    policy = re.sub(r"[\r\n]", "", header).strip()
    if len(policy) < len("img-src") - 1:
        raise ValueError(f"invalid policy: {policy!r}")
    directives: dict[str, set[str]] = {}
    for entry in policy.split(";"):
        name, *sources = entry.strip().split()
        if not name:
            continue
        name = name.lower()
        if name in directives and name not in {"report-uri", "report-to"}:
            raise ValueError(f"{name} appears twice")
        sources = [source.lower() for source in sources]
        if not sources and name.endswith("-src"):
            sources = ["'none'"]  # an empty source list allows nothing
        directives.setdefault(name, set(sources))
    return directives


def content_security_policy(
    headers: dict[str, str], *, url: str
) -> tuple[str, dict[str, bool], dict[str, set[str]]]:
    header = headers.get("content-security-policy")
    if not header:
        return "csp-not-implemented", {}, {}
    try:
        csp = parse_csp(header)
    except ValueError:
        return "csp-header-invalid", {}, {}
    default = csp.get("default-src")
    object_src = csp.get("object-src") or default or {"*"}
    script_src = set(csp.get("script-src") or default or {"*"})
    style_src = set(csp.get("style-src") or default or {"*"})
    # A nonce or a hash makes browsers ignore 'unsafe-inline'.
    for sources in (script_src, style_src):
        if any(source.startswith(NONCES_HASHES) for source in sources):
            sources.discard("'unsafe-inline'")
    result = None
    if "'strict-dynamic'" in script_src:
        if any(source.startswith(NONCES_HASHES) for source in script_src):
            script_src = {
                source
                for source in script_src
                if not source.startswith(tuple(DANGEROUSLY_BROAD))
                and source not in {"'self'", "'unsafe-inline'"}
            }
        else:
            result = "csp-header-invalid"
    active = [
        source
        for name, sources in csp.items()
        if name not in PASSIVE_DIRECTIVES and name != "script-src"
        for source in sources
    ] + list(script_src)
    passive = [source for name in PASSIVE_DIRECTIVES for source in (csp.get(name) or default or ())]
    https = urlsplit(url).scheme == "https"
    checks = [
        (
            script_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or object_src & DANGEROUSLY_BROAD,
            "csp-implemented-with-unsafe-inline",
        ),
        (
            https and any(source.startswith(("http:", "ftp:")) for source in active),
            "csp-implemented-with-insecure-scheme",
        ),
        ("'unsafe-eval'" in script_src | style_src, "csp-implemented-with-unsafe-eval"),
        (
            https and any(source.startswith(("http:", "ftp:")) for source in passive),
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
        ),
        (
            style_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE),
            "csp-implemented-with-unsafe-inline-in-style-src-only",
        ),
        (default == {"'none'"}, "csp-implemented-with-no-unsafe-default-src-none"),
        (True, "csp-implemented-with-no-unsafe"),
    ]
    # The first check a policy fails (or, last, passes) is its result.
    result = result or next(outcome for failed, outcome in checks if failed)
    flags = {
        "anti_clickjacking": not csp.get("frame-ancestors", {"*"}) & DANGEROUSLY_BROAD,
        "insecure_base_uri": bool(csp.get("base-uri", {"*"}) & (DANGEROUSLY_BROAD | UNSAFE_INLINE)),
        "insecure_form_action": bool(csp.get("form-action", {"*"}) & DANGEROUSLY_BROAD),
        "unsafe_objects": bool(object_src & DANGEROUSLY_BROAD),
    }
    return result, flags, csp


def parse_cookie(set_cookie: str) -> tuple[str, dict[str, str]]:
    """A Set-Cookie header's cookie name and its attributes, names lower-cased."""
    name_value, *attributes = (part.strip() for part in set_cookie.split(";"))
    pairs = (attribute.partition("=") for attribute in attributes if attribute)
    return name_value.partition("=")[0].strip(), {
        key.strip().lower(): value.strip() for key, _, value in pairs
    }


# cookies.js: a cookie's problem is reported only if it is worse than one already found.
COOKIE_PROBLEMS = [
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
]


def cookies(set_cookies: list[str], *, hsts: bool) -> str:
    if not set_cookies:
        return "cookies-not-found"
    problems = []
    missing_samesite = False
    for set_cookie in set_cookies:
        name, attributes = parse_cookie(set_cookie)
        secure, samesite = "secure" in attributes, attributes.get("samesite")
        session = "login" in name.lower() or "sess" in name.lower()
        if samesite is not None and samesite.lower() not in {"lax", "strict", "none"}:
            problems.append("cookies-samesite-flag-invalid")
        if not secure and (samesite or "").lower() == "none":
            problems.append("cookies-samesite-flag-invalid")
        if not secure:
            problems.append(
                "cookies-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-without-secure-flag"
            )
        if "csrf" in name.lower() and not samesite:
            problems.append("cookies-anticsrf-without-samesite-flag")
        if session and not secure:
            problems.append(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-session-without-secure-flag"
            )
        if session and "httponly" not in attributes:
            problems.append("cookies-session-without-httponly-flag")
        missing_samesite = missing_samesite or not samesite
    if problems:
        return max(problems, key=COOKIE_PROBLEMS.index)
    if missing_samesite:
        return "cookies-secure-with-httponly-sessions"
    return "cookies-secure-with-httponly-sessions-and-samesite"


def cross_origin_resource_sharing(headers: dict[str, str]) -> str:
    """For a response to a request from ``CORS_ORIGIN``."""
    allowed = headers.get("access-control-allow-origin")
    if not allowed:
        return "cross-origin-resource-sharing-not-implemented"
    if allowed.strip().lower() == "*":
        return "cross-origin-resource-sharing-implemented-with-public-access"
    credentials = headers.get("access-control-allow-credentials", "").strip().lower()
    if allowed == CORS_ORIGIN and credentials == "true":
        return "cross-origin-resource-sharing-implemented-with-universal-access"
    return "cross-origin-resource-sharing-implemented-with-restricted-access"


def redirection(*, url: str, redirects_to: str) -> str:
    if not redirects_to:
        return "redirection-missing"
    target = urlsplit(redirects_to)
    if target.scheme != "https":
        return "redirection-not-to-https"
    if target.hostname != urlsplit(url).hostname:
        return "redirection-off-host-from-http"
    return "redirection-to-https"


def referrer_policy(headers: dict[str, str]) -> str:
    private = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]
    unsafe = ["origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"]
    header = headers.get("referrer-policy")
    if header is None:
        return "referrer-policy-not-implemented"
    # Browsers use the last policy they understand.
    known = [value.strip().lower() for value in header.split(",")]
    known = [value for value in known if value in private + unsafe]
    if not known:
        return "referrer-policy-header-invalid"
    return "referrer-policy-private" if known[-1] in private else "referrer-policy-unsafe"


def strict_transport_security(headers: dict[str, str]) -> tuple[str, dict[str, int | bool]]:
    header = headers.get("strict-transport-security")
    if header is None:
        return "hsts-not-implemented", {}
    parameters = [parameter.strip().lower() for parameter in header[:1024].split(";")]
    ages = [
        int(parameter.removeprefix("max-age="))
        for parameter in parameters
        if parameter.startswith("max-age=") and parameter.removeprefix("max-age=").isdigit()
    ]
    if "," in header or not ages:
        return "hsts-header-invalid", {}
    found = {
        "max_age": ages[0],
        "include_subdomains": "includesubdomains" in parameters,
        "preload": "preload" in parameters,
    }
    if ages[0] < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months", found
    return "hsts-implemented-max-age-at-least-six-months", found


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def registrable_domain(host: str) -> str:
    # The scanner asks the public suffix list (tldts); two labels do for the hosts here.
    return ".".join(host.split(".")[-2:])


# subresource-integrity.js: as for cookies, only a worse finding replaces a better one.
SRI_ORDER = [
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
]


def subresource_integrity(headers: dict[str, str], *, html: str, url: str) -> str:
    mime = headers.get("content-type", "").split(";")[0].strip()
    if mime and mime not in {"text/html", "application/xhtml+xml"}:
        return "sri-not-implemented-response-not-html"
    parser = _Scripts()
    parser.feed(html)
    if not parser.scripts:
        return "sri-not-implemented-but-no-scripts-loaded"
    site = urlsplit(url)
    findings: list[str] = []
    foreign = False
    for script in parser.scripts:
        src, integrity = script.get("src"), script.get("integrity")
        if not src:
            continue
        relative_protocol = bool(re.match(r"^//[^/]", src))
        absolute = bool(re.match(r"^https?://", src))
        relative_origin = not relative_protocol and not absolute
        same_domain = relative_protocol or relative_origin
        if absolute:
            same_domain = registrable_domain(urlsplit(src).hostname or "") == registrable_domain(
                site.hostname or ""
            )
        secure_scheme = (absolute and src.startswith("https:")) or (
            relative_origin and site.scheme == "https"
        )
        if relative_origin or (same_domain and not relative_protocol):
            if integrity and secure_scheme and not findings:
                findings.append("sri-implemented-and-all-scripts-loaded-securely")
            continue
        foreign = True
        if integrity and not secure_scheme:
            findings.append("sri-implemented-but-external-scripts-not-loaded-securely")
        elif not integrity and secure_scheme:
            findings.append("sri-not-implemented-but-external-scripts-loaded-securely")
        elif not integrity:
            findings.append("sri-not-implemented-and-external-scripts-not-loaded-securely")
    if findings:
        return max(findings, key=SRI_ORDER.index)
    if foreign:
        return "sri-implemented-and-external-scripts-loaded-securely"
    return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"


def x_content_type_options(headers: dict[str, str]) -> str:
    header = headers.get("x-content-type-options")
    if header is None:
        return "x-content-type-options-not-implemented"
    if header[:256].strip().lower() == "nosniff":
        return "x-content-type-options-nosniff"
    return "x-content-type-options-header-invalid"


def x_frame_options(headers: dict[str, str], *, policy: dict[str, set[str]]) -> str:
    # A CSP frame-ancestors directive, whatever it says, stands in for the header.
    if "frame-ancestors" in policy:
        return "x-frame-options-implemented-via-csp"
    header = headers.get("x-frame-options")
    if header is None:
        return "x-frame-options-not-implemented"
    value = header[:1024].strip().lower()
    if value in {"deny", "sameorigin"}:
        return "x-frame-options-sameorigin-or-deny"
    if value.startswith("allow-from"):
        return "x-frame-options-allow-from-origin"
    return "x-frame-options-header-invalid"


def cross_origin_resource_policy(headers: dict[str, str]) -> str:
    header = headers.get("cross-origin-resource-policy")
    if not header:
        return "corp-not-implemented"
    return {
        "same-site": "corp-implemented-with-same-site",
        "same-origin": "corp-implemented-with-same-origin",
        "cross-origin": "corp-implemented-with-cross-origin",
    }.get(header[:256].strip().lower(), "corp-header-invalid")
