"""The AML Console engine: readers, schema, statistics, splitting (and, later, training).

Pure Python + numpy/pandas. This package must never import Django or Celery: progress
leaves it through callback arguments.
"""

from __future__ import annotations

__version__ = "0.1.0"
