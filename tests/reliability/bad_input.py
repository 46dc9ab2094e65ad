"""What the bad-input suites share: hostile values (Hypothesis strategies), a logged-in browser
that passes the CSRF check as a page visit would, and the checks every refused form must pass.

A check is a `Tally`: it counts the inputs tried and the HTTP 500s (a 500 is counted, not raised
at once, so the figures recorded for docs/reliability.md are the real counts), and `finish`
records them and fails the test if any 500 was seen.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.messages import get_messages
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from postgres_text import postgres_like_text  # noqa: F401 - for the suites
from reliability_figures import record

CONSOLE_TESTS = str(Path(__file__).resolve().parents[1] / "console")
if CONSOLE_TESTS not in sys.path:
    sys.path.append(CONSOLE_TESTS)
from api_client import ml_client  # noqa: E402, F401 - the API tests' in-process boto3 client

# The small churn data set the form and page suites build their objects from.
COLUMNS = ["id", "age", "plan", "score", "churn"]
SCHEMA = {
    "version": "1.0",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "targetAttributeName": "churn",
    "rowId": "id",
    "attributes": [
        {"attributeName": "id", "attributeType": "CATEGORICAL"},
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "plan", "attributeType": "CATEGORICAL"},
        {"attributeName": "score", "attributeType": "NUMERIC"},
        {"attributeName": "churn", "attributeType": "BINARY"},
    ],
}


FORMS_SUITE = "Bad input: web forms"
HTTP_500S = "HTTP 500s"

# Fixed and derandomized: the same examples on every run, so CI is deterministic.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FEW = settings(FUZZ, max_examples=15)


def nested(depth: int, *, kind: str = "list") -> str:
    """JSON nested `depth` levels deep: [[[...]]] or {"a": {"a": ... 1}}."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


# Hypothesis raises the recursion limit while it runs a test (to about 3,000 frames), so a
# document must be deeper than any such limit to show what a thousand levels do in production.
DEEP = 100_000
DEEP_JSON = [nested(DEEP), nested(DEEP, kind="object"), nested(1000), nested(101)]
CONTROL = "".join(chr(c) for c in [*range(0, 32), 127])
# Values a person (or a script) could send in any text field.
CORPUS = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    CONTROL,
    "\u202eevil\u202c",  # right-to-left override
    "\ufeffbom",
    "é" * 40,
    "😀" * 30,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%s%n%x",
    "{{7*7}}",
    "x" * 3000,
    "y" * 200_000,
    "null",
    "[]",
    "{}",
    "-1",
    "0",
    "1e999",
    "-1e999",
    "nan",
    "inf",
    "0x10",
    "9" * 5000,
    "99999999999999999999999",
    "1" * 400,
    "maybe",
    "yes\x00",
    "YES",
    *DEEP_JSON,
]
TRAVERSAL = [
    "../../../../etc/passwd",
    "/etc/passwd",
    "/etc/shadow",
    "/proc/self/environ",
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "/../../../etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "..\\..\\windows\\win.ini",
    "~root/.ssh/id_rsa",
    "/dev/zero",
    "/dev/urandom",
    "/",
    ".",
    "..",
    "/tmp/../etc/passwd",
    "data/datasets/../../../etc/passwd",
    "\x00/etc/passwd",
    "/etc/passwd\x00.csv",
]
MALFORMED_S3 = [
    "s3://",
    "s3:///",
    "s3:///key.csv",
    "s3://bucket",
    "s3://bucket/",
    "s3://UPPER_CASE/key",
    "s3://a/../../etc/passwd",
    "s3://a..b/key",
    "s3://-bucket-/key",
    "s3://bu cket/x",
    "s3:/bucket/key",
    "s3:bucket/key",
    "S3://bucket/key",
    "s3://bucket/key?versionId=1",
    "s3://bucket/key#frag",
    "s3://" + "a" * 300 + "/key",
    "s3://bucket/" + "k" * 3000,
    "s3://user:pass@bucket/key",
    "s3://127.0.0.1/key",
    "s3://bucket/\x00",
    "https://bucket.s3.amazonaws.com/key",
    "http://169.254.169.254/latest/meta-data/",
]

# Random text without lone surrogates, which no browser can send (the test client cannot encode
# them either).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
HOSTILE = st.one_of(st.sampled_from(CORPUS), TEXT, NUMBERS)
HOSTILE_PATHS = st.one_of(st.sampled_from(TRAVERSAL), HOSTILE)
HOSTILE_S3 = st.one_of(st.sampled_from(MALFORMED_S3), HOSTILE)
# A form field that holds JSON: hostile text, or JSON of the wrong shape.
WRONG_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def hostile_bytes() -> st.SearchStrategy[bytes]:
    """An uploaded file's content: empty, NUL bytes, not UTF-8, deep JSON, or random bytes."""
    fixed = [
        b"",
        b"\x00" * 100,
        b"\xff\xfe\xfd not utf-8 \x80\x81",
        b"\xef\xbb\xbf",
        b"\x1f\x8b\x08\x00" + bytes(range(256)),  # a gzip header, then noise
        b"PK\x03\x04" + b"\x00" * 50,  # the start of a zip
        nested(1000).encode(),
        nested(1000, kind="object").encode(),
        b'{"attributes": ' + nested(500).encode() + b"}",
        b"a,b\n1,2\n\x00\x00\n",
        b"\r\r\r\n\n",
    ]
    return st.one_of(st.sampled_from(fixed), st.binary(max_size=300), HOSTILE.map(str.encode))


# --------------------------------------------------------------------------- the browser


class Browser:
    """The owner's logged-in client with CSRF checks on, posting the token the page gave it."""

    def __init__(self, client: Client, page: str) -> None:
        self.client = client
        client.handler.enforce_csrf_checks = True
        client.raise_request_exception = False  # a view's crash is a 500 here, as for a user
        client.get(page)  # a page with a form sets the CSRF cookie, as a visit does
        self.token = client.cookies["csrftoken"].value

    def get(self, url: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, data or {})

    def post(self, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.post(url, {**(data or {}), "csrfmiddlewaretoken": self.token}, **extra)

    def post_raw(self, url: str, body: bytes) -> Any:
        """A urlencoded body as given (non-UTF-8 bytes included), with the token first."""
        token = f"csrfmiddlewaretoken={self.token}&".encode()
        return self.client.post(url, token + body, content_type="application/x-www-form-urlencoded")

    def post_file(
        self,
        url: str,
        field: str,
        filename: str,
        content: bytes,
        data: dict[str, str] | None = None,
    ) -> Any:
        """A multipart post written by hand, so the file's name can be anything a script sends
        (Django's own test files refuse names like ".."), quotes and line breaks included."""
        boundary = "----bad-input-boundary-7MA4YWxk"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in {**(data or {}), "csrfmiddlewaretoken": self.token}.items()
        ]
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"'
        )
        parts.append(head.encode() + b"\r\nContent-Type: text/csv\r\n\r\n" + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.client.generic(
            "POST", url, body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    def messages(self, response: Any) -> list[str]:
        return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------- the checks


@dataclass
class Tally:
    """One check's figures: every response counted, the 500s kept with what caused them."""

    check: str
    suite: str = FORMS_SUITE
    tried: int = 0
    crashes: list[str] = field(default_factory=list)

    def saw(self, response: Any, what: Any) -> bool:
        """Count one response; False (and noted) if it was a 500."""
        self.tried += 1
        if response.status_code >= 500:
            self.crashes.append(f"{response.status_code} for {_short(what)}")
            return False
        return True

    def run(self, check: Callable[[], None], bad_means: str = HTTP_500S) -> list[str]:
        """Run the Hypothesis `check`, then `finish`: its figures are recorded even when it
        fails. Returns what went wrong."""
        try:
            check()
        finally:
            problems = self.finish(bad_means)
        return problems

    def finish(self, bad_means: str = HTTP_500S) -> list[str]:
        """Record the check's figures; return what went wrong (empty when all went well)."""
        record(self.suite, self.check, tried=self.tried, bad=len(self.crashes), bad_means=bad_means)
        problems = [f"{self.check}: {bad_means}: {crash}" for crash in self.crashes[:5]]
        return problems if self.tried else [*problems, f"{self.check}: nothing was tried"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:150] + f"... ({len(text):,} characters)"


def form_of(response: Any, *names: str) -> Any:
    """The bound form a page rendered (the first context name given that holds one)."""
    context = response.context
    assert context is not None, "the response was not rendered from a template"
    for name in names:
        form = context.get(name)
        if form is not None and getattr(form, "is_bound", False):
            return form
    raise AssertionError(f"no bound form among {names} in the page")


def shown(text: str, page: str) -> bool:
    """Whether a message appears in a page (as Django escapes it)."""
    return html.escape(text) in page or text in page


def assert_refusal_names_the_field(
    response: Any, form: Any, fields: Iterable[str], words: Iterable[str] = ()
) -> None:
    """A refused form shows each error in the page, and says what was wrong with what: the error
    is attached to one of `fields`, or (an error about the whole form) its text uses one of the
    `words` that name that input."""
    page = response.content.decode()
    assert form.errors, "a 400 without a form error"
    fields, words = set(fields), [w.lower() for w in words]
    for name, errors in form.errors.items():
        for error in errors:
            assert shown(error, page), f"the error {error!r} of {name} is not shown in the page"
            if name == "__all__":
                assert any(w in error.lower() for w in words), (
                    f"a form-wide error names none of {words}: {error!r}"
                )
            else:
                assert name in fields or name in form.fields, name


# --------------------------------------------------------------------------- the environment


def quiet_s3(settings: Any, monkeypatch: Any) -> None:
    """S3 reads go to a closed local port, refused at once: no fuzzed location leaves the
    machine, and boto3 never asks an instance metadata service for credentials."""
    settings.AML_DATA_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fuzz")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fuzz")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
