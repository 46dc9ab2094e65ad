"""The Content-Security-Policy without a browser: the header on every kind of response, and no
template or script of ours holding what the policy refuses (inline script, handler, style).

The browser suite (test_csp_in_browser.py) proves the pages work under the policy; this one keeps
a new template from slipping an inline `onclick=` or `style=` past it in a second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from reliability_figures import record

from console.csp import HEADER, REPORT_ONLY_HEADER, policy_header
from console.plotly_css import STYLESHEET, expected_stylesheet
from console.staticfinders import PLOTLY_JS

pytestmark = [pytest.mark.reliability]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
OUR_SCRIPTS = ROOT / "static" / "console" / "js"

INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
# htmx evaluates hx-on, hx-vars and js: values (eval is off in base.html: they would just fail)
HTMX_EVAL = re.compile(
    r"""\shx-(?:on\b[^=\s]*|vars)\s*=|\shx-vals\s*=\s*["']\s*(?:js|javascript):""", re.I
)
JAVASCRIPT_URL = re.compile(r"""=\s*["']\s*javascript:""", re.I)
# In our JavaScript: HTML built with a handler or style attribute, and string evaluation.
SCRIPT_PATTERNS = {
    "handler attribute in built HTML": re.compile(r"""<[a-z][^>]*\son[a-z]+=""", re.I),
    "style attribute in built HTML": re.compile(r"""<[a-z][^>]*\sstyle=""", re.I),
    "setAttribute('style')": re.compile(r"""setAttribute\(\s*["']style["']"""),
    "eval": re.compile(r"\beval\(|new Function\(|set(?:Timeout|Interval)\(\s*[\"'`]"),
}


def refusals_in_templates() -> list[str]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)  # comments never render
        for name, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("event handler attribute", HANDLER_ATTRIBUTE),
            ("style attribute", STYLE_ATTRIBUTE),
            ("<style> element", STYLE_ELEMENT),
            ("htmx attribute that evaluates", HTMX_EVAL),
            ("javascript: URL", JAVASCRIPT_URL),
        ):
            found += [
                f"{path.relative_to(ROOT)}: {name}: {m.group(0)!r}" for m in pattern.finditer(text)
            ]
    return found


def refusals_in_scripts() -> list[str]:
    found = []
    for path in sorted(OUR_SCRIPTS.glob("*.js")):
        text = path.read_text()
        for name, pattern in SCRIPT_PATTERNS.items():
            found += [
                f"{path.relative_to(ROOT)}: {name}: {m.group(0)!r}" for m in pattern.finditer(text)
            ]
    return found


def test_no_template_holds_an_inline_script_handler_or_style() -> None:
    found = refusals_in_templates()
    checked = len(list(TEMPLATES.rglob("*.html")))
    record(
        "Security",
        "templates free of inline script and style",
        tried=checked,
        bad=len(found),
        bad_means="inline scripts, handlers or styles",
    )
    assert checked > 50
    assert found == []


def test_the_scan_finds_each_kind_of_inline_code() -> None:
    """The patterns themselves: each catches its case, and a script with src or JSON data passes."""
    samples = {
        '<script>alert(1)</script><script src="/static/x.js"></script>': 1,
        '<script id="d" type="application/json">{"a": 1}</script>': 0,
        '<form data-confirm="Sure?" onsubmit="return confirm()">': 1,
        '<div class="x" style="width: 3%">': 1,
        "<style>.a { color: red }</style>": 1,
        '<div data-width="3" data-style-note="x">': 0,
        '<button hx-on:click="go()">': 1,
        "<div hx-vals='js:{a: 1}' hx-get=\"/x\">": 1,
        '<a href="javascript:void(0)">': 1,
        '<div hx-get="/x" hx-vals=\'{"a": 1}\'>': 0,
    }
    for html, expected in samples.items():
        hits = sum(
            len(pattern.findall(html))
            for pattern in (
                INLINE_SCRIPT,
                HANDLER_ATTRIBUTE,
                STYLE_ATTRIBUTE,
                STYLE_ELEMENT,
                HTMX_EVAL,
                JAVASCRIPT_URL,
            )
        )
        assert hits == expected, html


def test_our_scripts_build_no_inline_handler_or_style_and_never_evaluate_strings() -> None:
    found = refusals_in_scripts()
    assert len(list(OUR_SCRIPTS.glob("*.js"))) > 5
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",  # a page
        "/",  # a redirect to the login page
        "/no-such-page/",  # a 404
        "/static/console/css/console.css",  # whitenoise
        "/static/vendor/plotly.min.js",  # plotly's bundle, from the plotly package
    ],
)
def test_every_kind_of_response_carries_the_policy(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 302, 404)
    assert response.headers[HEADER] == policy_header(settings.AML_CONTENT_SECURITY_POLICY)


@pytest.mark.django_db
def test_an_api_answer_carries_the_policy_too(client: Client) -> None:
    response = client.post(
        "/",
        data="{}",
        content_type="application/x-amz-json-1.1",
        HTTP_X_AMZ_TARGET="AmazonML_20141212.DescribeMLModels",
    )
    assert response.status_code in (400, 403)  # unsigned: refused by the API, not the login page
    assert HEADER in response.headers


def test_the_policy_allows_only_our_own_scripts_and_styles() -> None:
    policy: dict[str, Any] = settings.AML_CONTENT_SECURITY_POLICY
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    header = policy_header(policy)
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert header.startswith("default-src 'self'; script-src 'self'; style-src 'self'")


def test_plotly_css_holds_the_rules_of_the_plotly_bundle_we_serve() -> None:
    """After a plotly upgrade: `python -m console.plotly_css` rewrites static/console/css/plotly.css."""
    assert STYLESHEET.read_text() == expected_stylesheet()
    assert ".js-plotly-plot .plotly .modebar{" in STYLESHEET.read_text()


def test_the_map_stylesheet_plotly_would_inject_is_the_one_our_template_stops() -> None:
    partial = (TEMPLATES / "console" / "partials" / "plotly.html").read_text()
    stopped = re.search(r'<template id="([0-9a-f]{64})">', partial)
    assert stopped is not None
    bundle = PLOTLY_JS.read_text(encoding="utf-8")
    assert f'document.getElementById("{stopped.group(1)}")' in bundle


@pytest.mark.django_db
def test_report_only_mode_sends_the_policy_without_enforcing_it(settings: Any) -> None:
    settings.AML_CSP_REPORT_ONLY = True
    response = Client().get("/accounts/login/")  # a new client loads the middleware anew
    assert response.headers[REPORT_ONLY_HEADER] == policy_header(
        settings.AML_CONTENT_SECURITY_POLICY
    )
    assert HEADER not in response.headers
