"""Serve plotly.js from the installed plotly package as `vendor/plotly.min.js`.

The file ships inside the plotly wheel, so it is never copied into the repository and the
pages never load anything from the internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PUBLIC_PATH = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_JS.parent))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        if path == PUBLIC_PATH and PLOTLY_JS.exists():
            return [str(PLOTLY_JS)] if find_all else str(PLOTLY_JS)
        return [] if find_all else None

    def list(self, ignore_patterns: Any) -> Any:
        if PLOTLY_JS.exists():
            storage = FileSystemStorage(location=str(PLOTLY_JS.parent))
            storage.prefix = "vendor"  # type: ignore[attr-defined]
            yield PLOTLY_JS.name, storage
