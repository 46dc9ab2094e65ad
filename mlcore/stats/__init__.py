"""Datasource statistics ("data insights", reference section 3) in one streaming pass.

`compute_statistics(files, schema, fmt, *, rearrangement=None, progress=None, on_invalid=None,
max_invalid=10_000)` returns the JSON below; `rebin(histogram, bins)` folds a numeric histogram for
the preview (20, 50, 100, 200 or 500 bins). The authoritative description of the shape is
docs/statistics-format.md; in short:

    {
      "version": 1,
      "recordsRead": 41188, "recordCount": 41188, "invalidRecordCount": 0,
      "targetAttributeName": "y",                       # or null
      "target": {"name": "y", "type": "BINARY",         # null without a target
                 "distribution": [{"value": "0", "count": 36548}, {"value": "1", "count": 4640}],
                 "histogram": null},                    # {"min","max","counts"} for NUMERIC
      "attributes": [                                   # schema order, target included
        {"name", "type": "NUMERIC", "count", "missing", "invalid", "min", "max", "mean",
         "median", "stddev", "histogram": {"min", "max", "counts": [1000 ints]},
         "approximate", "correlation"},
        {"name", "type": "BINARY", "count", "missing", "invalid", "trueCount", "percentTrue",
         "correlation"},
        {"name", "type": "CATEGORICAL", "count", "missing", "invalid", "uniqueCount",
         "top": [{"value", "count"}] (<= 10), "otherCount", "mostFrequent",
         "leastFrequent": [{"value", "count"}] (<= 5), "approximate", "correlation"},
        {"name", "type": "TEXT", "count", "missing", "invalid", "totalWords", "uniqueWords",
         "wordsPerRowMin", "wordsPerRowMax", "wordLengthMin", "wordLengthMax",
         "topWords": [{"word", "count", "percent", "prominence"}] (<= 20), "approximate",
         "correlation"}
      ]
    }

`count` is the number of valid, present values; `correlation` is a strength in [0, 1], null for
the target itself and without a target; NaN never appears. `approximate` (an addition to the
documented shape) is true when a bounded structure had to give up exactness: more than 200,000
distinct numbers (median and histogram then use values rounded to 5 significant digits), more than
100,000 categories, or more than 50,000 distinct words.

Every accumulator merges with `+=` (`a += b` equals one pass over both halves), so chunks or
workers can be combined in any grouping.
"""

from __future__ import annotations

from mlcore.stats.binary import BinaryStats
from mlcore.stats.categorical import CappedCounts, CategoricalStats
from mlcore.stats.compute import compute_statistics, invalid_reasons_text, records_read_text
from mlcore.stats.correlation import (
    CorrelationRatio,
    CramersV,
    PearsonCorrelation,
    correlation_for,
    cramers_v,
)
from mlcore.stats.distinct import DistinctValueCounts, round_significant
from mlcore.stats.histogram import HISTOGRAM_BINS, PREVIEW_BINS, rebin
from mlcore.stats.moments import CoMoments, Moments
from mlcore.stats.numeric import NumericStats
from mlcore.stats.summary import DatasetStatistics
from mlcore.stats.text import TextStats

__all__ = [
    "HISTOGRAM_BINS",
    "PREVIEW_BINS",
    "BinaryStats",
    "CappedCounts",
    "CategoricalStats",
    "CoMoments",
    "CorrelationRatio",
    "CramersV",
    "DatasetStatistics",
    "DistinctValueCounts",
    "Moments",
    "NumericStats",
    "PearsonCorrelation",
    "TextStats",
    "compute_statistics",
    "invalid_reasons_text",
    "records_read_text",
    "correlation_for",
    "cramers_v",
    "rebin",
    "round_significant",
]
