"""Statistics of a TEXT attribute, and its correlation through a bag of frequent words.

Tokens are runs of non-whitespace characters (AML's whitespace tokenisation, case kept). A row that
is missing has zero words: it counts in the words-per-row range, as in AML's worked example.

Each tracked word keeps its occurrence count, the number of rows containing it and, when there is
a target, the target's figures over those rows. A word's *prominence* is the strength of the
association between "the row contains the word" and the target (|Pearson r| for a numeric or binary
target, Cramér's V for a categorical one), or, without a target, the binary entropy of the share of
rows containing it. The attribute's correlation is the largest prominence among the `BAG_SIZE` most
frequent words: AML likewise measured text through a simplified representation.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
import pandas as pd

from mlcore.schema.model import AttributeType
from mlcore.stats._base import Mergeable
from mlcore.stats.categorical import as_strings
from mlcore.stats.correlation import OTHER
from mlcore.stats.moments import Moments

MAX_TRACKED_WORDS = 50_000
MAX_TARGET_CLASSES = 50
BAG_SIZE = 1_000
TOP_WORDS = 20
CLASS_PREFIX = "class:"


class TextStats(Mergeable):
    """Words, unique words, words per row, word lengths, prominent words and correlation.

    `target_type` says how to read the target passed to `update` (None: no target).

    >>> s = TextStats(); s.update(["the cat sat", "", "the dog"])
    >>> d = s.to_dict(); (d["totalWords"], d["uniqueWords"], d["wordsPerRowMin"], d["wordsPerRowMax"])
    (5, 4, 0, 3)
    """

    def __init__(
        self, target_type: AttributeType | None = None, max_words: int = MAX_TRACKED_WORDS
    ) -> None:
        self.target_type = target_type
        self.max_words = max_words
        self.count = 0
        self.missing = 0
        self.invalid = 0
        self.rows = 0
        self.total_words = 0
        self.words_per_row = (math.inf, -math.inf)
        self.word_length = (math.inf, -math.inf)
        self.words = pd.DataFrame({"count": [], "rows": []}, dtype="float64")
        self.target_moments = Moments()  # numeric/binary target, over rows where it is present
        self.class_counts = pd.Series(dtype="float64")  # categorical target: rows per class
        self.approximate = False

    @property
    def categorical_target(self) -> bool:
        return self.target_type is AttributeType.CATEGORICAL

    @property
    def numeric_target(self) -> bool:
        return self.target_type in (AttributeType.NUMERIC, AttributeType.BINARY)

    def add_invalid(self, count: int = 1) -> None:
        self.invalid += count

    def update(self, texts: Any, target: Any = None) -> None:
        series, missing = as_strings(texts)
        self.rows += len(series)
        self.missing += int(missing.sum())
        self.count += int((~missing).sum())
        token_lists = series.where(~missing, "").astype(str).str.split()
        self._update_ranges(token_lists)
        tokens = token_lists.explode().dropna()
        if len(tokens) == 0 and target is None:
            return
        chunk = self._chunk_words(tokens, target)
        self._absorb(chunk)

    def _update_ranges(self, token_lists: pd.Series) -> None:
        per_row = token_lists.str.len().to_numpy()
        if len(per_row):
            self.total_words += int(per_row.sum())
            self.words_per_row = _widen(self.words_per_row, per_row.min(), per_row.max())

    def _chunk_words(self, tokens: pd.Series, target: Any) -> pd.DataFrame:
        words = tokens.astype(str)
        if len(words):
            lengths = words.str.len()
            self.word_length = _widen(self.word_length, lengths.min(), lengths.max())
        chunk = pd.DataFrame({"count": words.value_counts(sort=False)}).astype("float64")
        presence = pd.DataFrame({"row": words.index.to_numpy(), "word": words.to_numpy()})
        presence = presence.drop_duplicates()
        chunk["rows"] = presence["word"].value_counts(sort=False).astype("float64")
        if target is not None and self.numeric_target:
            chunk = chunk.join(self._numeric_target_columns(presence, target))
        elif target is not None and self.categorical_target:
            chunk = chunk.join(self._class_columns(presence, target))
        chunk.index.name = None
        return chunk.fillna(0.0)

    def _numeric_target_columns(self, presence: pd.DataFrame, target: Any) -> pd.DataFrame:
        y = np.asarray(target, dtype=np.float64)
        self.target_moments.update(y[np.isfinite(y)])
        y_at_word = y[presence["row"].to_numpy(dtype=np.int64)]
        usable = np.isfinite(y_at_word)
        frame = pd.DataFrame({"word": presence["word"].to_numpy()[usable], "y": y_at_word[usable]})
        grouped = frame.groupby("word", sort=False)["y"]
        return pd.DataFrame({"t_rows": grouped.count(), "t_sum": grouped.sum()}).astype("float64")

    def _class_columns(self, presence: pd.DataFrame, target: Any) -> pd.DataFrame:
        classes, missing = as_strings(target)
        labels = (CLASS_PREFIX + classes.astype(str)).to_numpy()
        self._add_class_counts(pd.Series(labels[~missing]).value_counts(sort=False))
        rows = presence["row"].to_numpy(dtype=np.int64)
        usable = ~missing[rows]
        frame = pd.DataFrame(
            {"word": presence["word"].to_numpy()[usable], "c": labels[rows][usable]}
        )
        table = frame.groupby(["word", "c"], sort=False).size().unstack(fill_value=0)
        table.columns.name = None
        return table.astype("float64")

    def _add_class_counts(self, counts: pd.Series) -> None:
        self.class_counts = self.class_counts.add(counts.astype("float64"), fill_value=0.0)

    def merge(self, other: Self) -> Self:
        self.count += other.count
        self.missing += other.missing
        self.invalid += other.invalid
        self.rows += other.rows
        self.total_words += other.total_words
        self.words_per_row = _widen(self.words_per_row, *other.words_per_row)
        self.word_length = _widen(self.word_length, *other.word_length)
        self.target_moments.merge(other.target_moments)
        self._add_class_counts(other.class_counts)
        self.approximate |= other.approximate
        self._absorb(other.words)
        return self

    def _absorb(self, chunk: pd.DataFrame) -> None:
        merged = self.words.add(chunk, fill_value=0.0) if len(self.words) else chunk.copy()
        merged = merged.fillna(0.0)
        if len(merged) > self.max_words:
            keep = (
                merged["count"].sort_values(ascending=False, kind="stable").index[: self.max_words]
            )
            merged = merged.loc[keep]
            self.approximate = True
        self.words = self._fold_rare_classes(merged)

    def _fold_rare_classes(self, words: pd.DataFrame) -> pd.DataFrame:
        """Keep at most MAX_TARGET_CLASSES class columns; sum the rarest into one (bounded memory)."""
        if len(self.class_counts) <= MAX_TARGET_CLASSES + 1:
            return words
        other = CLASS_PREFIX + OTHER
        ranked = self.class_counts.drop(index=other, errors="ignore").sort_values(
            ascending=False, kind="stable"
        )
        folded = [c for c in self.class_counts.index if c not in ranked.index[:MAX_TARGET_CLASSES]]
        self.class_counts = pd.concat(
            [
                self.class_counts.drop(index=folded),
                pd.Series({other: self.class_counts[folded].sum()}),
            ]
        )
        present = [c for c in folded if c in words.columns]
        words = words.assign(**{other: words[present].sum(axis=1)}).drop(columns=present)
        self.approximate = True
        return words

    def prominence(self, words: pd.DataFrame) -> pd.Series:
        """Each word's prominence (see the module docstring), in [0, 1]."""
        if self.numeric_target and self.target_moments.n:
            return self._pearson_per_word(words)
        if self.categorical_target and len(self.class_counts):
            return self._cramers_v_per_word(words)
        share = (words["rows"] / self.rows).clip(0.0, 1.0) if self.rows else words["rows"] * 0.0
        return _binary_entropy(share)

    def _pearson_per_word(self, words: pd.DataFrame) -> pd.Series:
        n = float(self.target_moments.n)
        mean_y, m2_y = self.target_moments.mean, self.target_moments.m2
        a = words.get("t_rows", words["rows"] * 0.0)
        b = words.get("t_sum", words["rows"] * 0.0)
        covariance = b - a * mean_y
        spread = np.sqrt(a * (n - a) / n * m2_y)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (covariance / spread).abs()
        return r.where(spread > 0, 0.0).clip(0.0, 1.0)

    def _cramers_v_per_word(self, words: pd.DataFrame) -> pd.Series:
        classes = [c for c in self.class_counts.index if self.class_counts[c] > 0]
        totals = self.class_counts[classes].to_numpy(dtype=np.float64)
        n = totals.sum()
        if len(classes) < 2 or n == 0:
            return words["rows"] * 0.0
        with_word = words.reindex(columns=classes, fill_value=0.0).to_numpy(dtype=np.float64)
        without_word = totals[None, :] - with_word
        a = with_word.sum(axis=1, keepdims=True)
        expected_with = a * totals[None, :] / n
        expected_without = (n - a) * totals[None, :] / n
        with np.errstate(divide="ignore", invalid="ignore"):
            chi2 = np.nansum(np.square(with_word - expected_with) / expected_with, axis=1)
            chi2 += np.nansum(np.square(without_word - expected_without) / expected_without, axis=1)
        v = np.sqrt(np.clip(chi2 / n, 0.0, 1.0))
        constant = (a[:, 0] <= 0) | (a[:, 0] >= n)
        return pd.Series(np.where(constant, 0.0, v), index=words.index)

    def bag_of_words(self) -> pd.DataFrame:
        """The BAG_SIZE most frequent words (ties by word), with their prominence."""
        words = self.words.assign(word=self.words.index.astype(str))
        words = words.sort_values(["count", "word"], ascending=[False, True], kind="stable")
        bag = words.iloc[:BAG_SIZE]
        return bag.assign(prominence=self.prominence(bag).fillna(0.0))

    def correlation(self) -> float | None:
        if self.target_type is None:
            return None
        bag = self.bag_of_words()
        return float(bag["prominence"].max()) if len(bag) else 0.0

    def top_words(self) -> list[dict[str, Any]]:
        bag = self.bag_of_words().sort_values(
            ["prominence", "count", "word"], ascending=[False, False, True], kind="stable"
        )
        return [
            {
                "word": word,
                "count": int(count),
                "percent": 100.0 * count / self.total_words,
                "prominence": float(prominence),
            }
            for word, count, prominence in bag[["word", "count", "prominence"]]
            .iloc[:TOP_WORDS]
            .itertuples(index=False)
        ]

    def to_dict(self) -> dict[str, Any]:
        has_rows = self.rows > 0
        has_words = self.total_words > 0
        return {
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "totalWords": self.total_words,
            "uniqueWords": len(self.words),
            "wordsPerRowMin": int(self.words_per_row[0]) if has_rows else None,
            "wordsPerRowMax": int(self.words_per_row[1]) if has_rows else None,
            "wordLengthMin": int(self.word_length[0]) if has_words else None,
            "wordLengthMax": int(self.word_length[1]) if has_words else None,
            "topWords": self.top_words(),
            # true once more than MAX_TRACKED_WORDS distinct words were seen (uniqueWords is then
            # a lower bound) or the target's rarest classes had to be folded together
            "approximate": self.approximate,
        }


def _widen(bounds: tuple[float, float], low: Any, high: Any) -> tuple[float, float]:
    return (min(bounds[0], float(low)), max(bounds[1], float(high)))


def _binary_entropy(p: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return h.fillna(0.0).clip(0.0, 1.0)
