"""Template filters that print values the way the AML console did.

Dates read "Mar 5, 2018 2:34:07 PM", durations "3 mins.", sizes "3.3 MB"; anything unknown reads
"Not available", AML's own wording.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from console.models import AMLObject, Status
from console.services.listing import TYPE_KEY_OF

register = template.Library()

NOT_AVAILABLE = "Not available"
_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")


@register.filter
def aml_date(value: datetime | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "M j, Y g:i:s A")


def humanize_seconds(seconds: float) -> str:
    """'12 secs.', '1 min.', '3 mins.', '2 hrs.', '4 days' (AML rounded to whole units)."""
    seconds = max(0.0, seconds)
    for size, one, many in ((86400, "day", "days"), (3600, "hr.", "hrs."), (60, "min.", "mins.")):
        if seconds >= size:
            n = round(seconds / size)
            return f"{n} {one if n == 1 else many}"
    n = round(seconds)
    return f"{n} {'sec.' if n == 1 else 'secs.'}"


@register.filter
def aml_duration(value: timedelta | float | int | None) -> str:
    """A timedelta or a number of seconds."""
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return humanize_seconds(float(value))


@register.filter
def completion(obj: Any) -> str:
    """The dashboard's Completion time: how long the job took, once it finished.

    Under a second reads like the summary's compute time ("Less than 1 sec."), not "0 secs.".
    """
    if getattr(obj, "finished_at", None) is None:
        return ""
    seconds = (obj.finished_at - obj.created_at).total_seconds()
    return "Less than 1 sec." if seconds < 1 else humanize_seconds(seconds)


@register.filter
def compute_time(milliseconds: int | None) -> str:
    """AML's ComputeTime is approximate CPU milliseconds."""
    if milliseconds is None:
        return NOT_AVAILABLE
    if milliseconds < 1000:
        return "Less than 1 sec."
    return humanize_seconds(milliseconds / 1000)


@register.filter
def aml_bytes(value: int | float | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    size = float(value)
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{int(size):,} {'byte' if int(size) == 1 else 'bytes'}"
    return f"{size:.1f} {_UNITS[unit]}"


@register.simple_tag
def object_url(obj: AMLObject, page: str = "detail") -> str:
    """The URL of one of an object's pages: `{% object_url ml "rename" %}` → /models/ml-…/rename/."""
    return reverse(f"console:{TYPE_KEY_OF[type(obj)]}-{page}", args=[obj.entity_id])


# Training parameters whose raw value is a number of bytes (AML's keys).
_BYTE_PARAMETERS = frozenset({"sgd.maxMLModelSizeInBytes"})


@register.filter
def parameter_value(value: Any, key: str) -> str:
    """A training parameter as AML stores it, with the size in MB/GB after a byte count."""
    if key in _BYTE_PARAMETERS:
        try:
            return f"{int(value):,} bytes ({aml_bytes(int(value))})"
        except (TypeError, ValueError):
            pass
    return str(value)


@register.filter
def status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def or_na(value: Any) -> Any:
    """Like `default_if_none` and empty strings, with AML's wording; 0 stays 0."""
    return NOT_AVAILABLE if value is None or value == "" else value


@register.filter
def number(value: Any, digits: int = 4) -> str:
    """Statistics figures: thousands separators for integers, a few significant digits otherwise."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) < 1e15
    ):
        return f"{int(value):,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.{int(digits)}g}"
    return str(value)


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{int(digits)}f}%"


@register.filter
def truncate_middle(value: str, length: int = 60) -> str:
    """Long names are cut with '...' as AML did, keeping the end (often the split suffix) visible."""
    value = str(value)
    if len(value) <= length:
        return value
    keep = length - 3
    return value[: keep - keep // 3] + "..." + value[-(keep // 3) :]
