"""The one quantile rule of every interval the simulator prints (Student t, two-sided)."""

from __future__ import annotations

from scipy import special


def t_quantile(confidence: float, df: int) -> float:
    """Two-sided Student t quantile ``t`` with ``P(|T| < t) = confidence`` (``scipy.special.stdtrit``, the
    function ``scipy.stats.t.ppf`` calls, without the second it takes to import ``scipy.stats``); the one
    quantile rule of every interval the simulator prints (estimators, replications, importance)."""
    return float(special.stdtrit(max(df, 1), 0.5 + confidence / 2.0))
