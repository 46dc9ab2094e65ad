"""Comparing evaluations: `/evaluations/compare/?ids=ev-a,ev-b,ev-c`, a shareable address.

Another user's id, or one that does not exist, is a 404 like every object page (the page never
says whose it is); evaluations that cannot be compared get the page with a sentence saying why
and a 400. With fewer than two ids (a model page's only evaluation, or none) the page offers the
user's completed evaluations of that model type to pick from, as a plain GET form.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.evaluation_reports.compare import (
    MAX_COMPARED,
    MIN_COMPARED,
    NotComparable,
    build_comparison,
    check_count,
    choices,
    parse_ids,
)
from console.models import Evaluation

from .objects import owned_or_404

TEMPLATE = "console/evaluations/compare.html"


@require_GET
def evaluation_compare(request: HttpRequest) -> HttpResponse:
    """The comparison; with fewer than two ids, a picker of evaluations to compare with."""
    ids = parse_ids(request.GET.getlist("ids"))
    try:
        check_count(ids, least=0)  # before any lookup: an address may carry thousands of ids
        evaluations = [owned_or_404(Evaluation, request, entity_id) for entity_id in ids]
        if len(evaluations) < MIN_COMPARED:
            context = {"choices": choices(request.user, evaluations), "min": MIN_COMPARED}
            return render(request, TEMPLATE, {**context, "max": MAX_COMPARED})
        comparison = build_comparison(evaluations)
    except NotComparable as exc:
        return render(request, TEMPLATE, {"error": exc.message, "ids": ids}, status=400)
    return render(request, TEMPLATE, {"comparison": comparison})
