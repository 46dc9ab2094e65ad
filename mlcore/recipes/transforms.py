"""The recipe transformations (reference section 5.2), vectorised over a chunk of records.

Strings travel as object arrays with "" for missing. Tokens travel as two parallel arrays:
`rows` (int64, ascending, the record each token belongs to) and `tokens` (object), in the order
the words appear, so n-grams can be built by comparing neighbours without a Python loop per row.

>>> rows, tokens = text_tokens(np.array(["I really enjoined", "", "hi"], dtype=object))
>>> rows.tolist(), tokens.tolist()
([0, 0, 0, 2], ['I', 'really', 'enjoined', 'hi'])
>>> osb(rows, tokens, 3)[1].tolist()
['I_really', 'really_enjoined', 'I__enjoined']
"""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd

# ASCII punctuation; a run of it is removed only at the start or end of a whitespace token
_PUNCT = "[" + re.escape(string.punctuation) + "]+"
_EDGE_PUNCT = re.compile(rf"(?<!\S){_PUNCT}|{_PUNCT}(?!\S)")

Tokens = tuple[np.ndarray, np.ndarray]


def lowercase(strings: np.ndarray) -> np.ndarray:
    """Lower-case every string.

    >>> lowercase(np.array(["Deep LEARNING", ""], dtype=object)).tolist()
    ['deep learning', '']
    """
    return pd.Series(strings, dtype=object).str.lower().to_numpy(dtype=object)


def no_punct(strings: np.ndarray) -> np.ndarray:
    """Strip leading and trailing punctuation of each word; a word of punctuation only goes.

    >>> no_punct(np.array(["seat-belts! - (ok)", "..."], dtype=object)).tolist()
    ['seat-belts ok', '']
    """
    stripped = pd.Series(strings, dtype=object).str.replace(_EDGE_PUNCT, "", regex=True)
    # removing a lone mark leaves two spaces; collapse them so categorical values stay tidy
    return stripped.str.split().str.join(" ").to_numpy(dtype=object)


def text_tokens(strings: np.ndarray) -> Tokens:
    """Words (split on whitespace only, punctuation stays attached) with their row numbers."""
    words = pd.Series(strings, dtype=object).str.split().explode()
    present = words.notna().to_numpy()
    rows = words.index.to_numpy(dtype=np.int64)[present]
    return rows, words.to_numpy(dtype=object)[present]


def whole_tokens(strings: np.ndarray) -> Tokens:
    """One token per present value: a CATEGORICAL value is a single token."""
    rows = np.flatnonzero(strings != "").astype(np.int64)
    return rows, strings[rows]


def ngram(rows: np.ndarray, tokens: np.ndarray, n: int) -> Tokens:
    """Every k-gram for k = 1..n, space-joined (AML's TEXT always keeps its words).

    >>> ngram(np.array([0, 0, 0]), np.array(["a", "b", "c"], dtype=object), 3)[1].tolist()
    ['a', 'b', 'c', 'a b', 'b c', 'a b c']
    """
    all_rows, all_tokens = [rows], [tokens]
    for k in range(2, n + 1):
        if len(tokens) < k:
            break
        start = np.flatnonzero(rows[: len(rows) - k + 1] == rows[k - 1 :])
        grams = tokens[start]
        for offset in range(1, k):
            grams = grams + " " + tokens[start + offset]
        all_rows.append(rows[start])
        all_tokens.append(grams)
    return _concatenated(all_rows, all_tokens)


def osb(rows: np.ndarray, tokens: np.ndarray, n: int) -> Tokens:
    """Orthogonal sparse bigrams: each word paired with each of the next n-1 words, `_` per gap.

    >>> osb(np.array([0, 0, 0]), np.array(["I", "really", "enjoined"], dtype=object), 3)[1].tolist()
    ['I_really', 'really_enjoined', 'I__enjoined']
    """
    all_rows, all_tokens = [], []
    for gap in range(1, n):
        if len(tokens) <= gap:
            break
        start = np.flatnonzero(rows[:-gap] == rows[gap:])
        all_rows.append(rows[start])
        all_tokens.append(tokens[start] + "_" * gap + tokens[start + gap])
    return _concatenated(all_rows, all_tokens)


def cartesian(a: Tokens, b: Tokens) -> Tokens:
    """Every combination of a row's tokens in `a` with its tokens in `b`, joined by `_`.

    >>> a = (np.array([0, 0, 0]), np.array(["A", "B", "C"], dtype=object))
    >>> cartesian(a, (np.array([0]), np.array(["Z"], dtype=object)))[1].tolist()
    ['A_Z', 'B_Z', 'C_Z']
    """
    left = pd.DataFrame({"row": a[0], "a": a[1]})
    right = pd.DataFrame({"row": b[0], "b": b[1]})
    pairs = left.merge(right, on="row", how="inner", sort=True)
    tokens = pairs["a"].to_numpy(dtype=object) + "_" + pairs["b"].to_numpy(dtype=object)
    return pairs["row"].to_numpy(dtype=np.int64), tokens


def equal_population_boundaries(values: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Cut points splitting the weighted sorted `values` into `n` bins of equal population.

    Bin i holds `boundaries[i-1] <= x < boundaries[i]`. Heavy ties can make bins unequal (a value
    is never split between bins); duplicate cut points are merged, so there may be fewer bins.

    >>> equal_population_boundaries(np.arange(1.0, 9.0), np.ones(8), 4).tolist()
    [3.0, 5.0, 7.0]
    """
    if len(values) == 0:
        return np.empty(0)
    cumulative = np.cumsum(counts)
    targets = cumulative[-1] * np.arange(1, n) / n
    # the first value whose cumulative count passes the target starts the next bin
    index = np.searchsorted(cumulative, targets, side="right")
    index = index[index < len(values)]
    boundaries = np.unique(values[index])
    return boundaries[boundaries > values[0]]


def bin_labels(boundaries: np.ndarray) -> list[str]:
    """Readable labels of the bins `boundaries` define, e.g. `[38,39)`.

    >>> bin_labels(np.array([3.0, 5.5]))
    ['(-inf,3)', '[3,5.5)', '[5.5,inf)']
    """
    edges = ["-inf", *(format(b, ".6g") for b in boundaries), "inf"]
    return [f"{'(' if i == 0 else '['}{edges[i]},{edges[i + 1]})" for i in range(len(edges) - 1)]


def bin_index(values: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """The bin of each value: how many boundaries are at or below it (NaN must be handled by
    the caller).

    A binary search per value mispredicts its branches on real data (9 banking columns of 4,119
    records: 0.7 ms, where a micro-benchmark repeating one column shows 0.17). Values that are
    whole multiples of 1, 0.1 or 0.001 over at most 65,536 points (most data) look their bin up
    in a table searched over that grid: the table is searched with the same float64s the values
    were matched to, so every bin is the search's.

    >>> bin_index(np.array([0.5, 3.0, 4.2, 9.0]), np.array([3.0, 5.5])).tolist()
    [0, 1, 1, 2]
    """
    grid = _grid_of(values)
    if grid is None:
        return np.searchsorted(boundaries, values, side="right")
    first, scale, size, points = grid
    table = np.searchsorted(boundaries, np.arange(first, first + size) / scale, side="right")
    return table[points]


_GRID_SCALES = (1.0, 10.0, 1000.0)
_GRID_POINTS = 1 << 16
_GRID_SAMPLE = 64  # values looked at before all of them: most columns off a grid show it early
_EXACT_INTEGERS = float(2**52)  # every integer below is a float64, and so are its neighbours


def _grid_of(values: np.ndarray) -> tuple[float, float, int, np.ndarray] | None:
    """The coarsest grid holding every value exactly, if one of at most `_GRID_POINTS` does:
    (first, scale, size, points) with value == (first + point) / scale for each value's point."""
    if not len(values):
        return None
    for scale in _GRID_SCALES:
        sample = values[:_GRID_SAMPLE]
        if not np.array_equal(np.rint(sample * scale) / scale, sample):
            continue
        scaled = np.rint(values * scale)
        if not np.array_equal(scaled / scale, values):
            continue
        first, last = float(scaled.min()), float(scaled.max())
        if not (first > -_EXACT_INTEGERS and last < _EXACT_INTEGERS):
            return None
        if last - first >= _GRID_POINTS:
            return None
        return first, scale, int(last - first) + 1, (scaled - first).astype(np.intp)
    return None


def _concatenated(rows: list[np.ndarray], tokens: list[np.ndarray]) -> Tokens:
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    all_rows = np.concatenate(rows)
    order = np.argsort(all_rows, kind="stable")
    return all_rows[order], np.concatenate(tokens)[order]
