"""The one quantile rule of every interval the simulator prints (Student t, two-sided)."""

from __future__ import annotations

from scipy import stats


def t_quantile(confidence: float, df: int) -> float:
    """Two-sided Student t quantile ``t`` with ``P(|T| < t) = confidence`` (``scipy.stats.t``); the one
    quantile rule of every interval the simulator prints (estimators, replications, importance)."""
    return float(stats.t.ppf(0.5 + confidence / 2.0, max(df, 1)))
