"""Comparing evaluations: `/evaluations/compare/?ids=ev-a,ev-b,ev-c`, a shareable address.

Another user's id, or one that does not exist, is a 404 like every object page (the page never
says whose it is); evaluations that cannot be compared get the page with a sentence saying why
and a 400.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.evaluation_reports.compare import (
    NotComparable,
    build_comparison,
    check_count,
    parse_ids,
)
from console.models import Evaluation

from .objects import owned_or_404

TEMPLATE = "console/evaluations/compare.html"


@require_GET
def evaluation_compare(request: HttpRequest) -> HttpResponse:
    ids = parse_ids(request.GET.getlist("ids"))
    try:
        check_count(ids)
        evaluations = [owned_or_404(Evaluation, request, entity_id) for entity_id in ids]
        comparison = build_comparison(evaluations)
    except NotComparable as exc:
        return render(request, TEMPLATE, {"error": exc.message, "ids": ids}, status=400)
    return render(request, TEMPLATE, {"comparison": comparison})
