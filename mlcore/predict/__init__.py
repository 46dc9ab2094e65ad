"""Scoring: typed frames to scores, and one record to AML's Predict response."""

from __future__ import annotations

from mlcore.predict.scoring import predicted_labels, score_batch, score_frame, score_record

__all__ = ["predicted_labels", "score_batch", "score_frame", "score_record"]
