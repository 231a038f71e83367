"""How strong would hidden bias have to be to explain the result away? And how big an effect
could a cohort of this size detect at all?

Rosenbaum bounds (evaluation-methods.md §3) for a binary outcome in 1:1 matched pairs: of the D
discordant pairs (one person reoffended, the other did not), T favour the hypothesis. If an
unobserved characteristic made one member of a pair up to Γ times as likely to be treated as the
other, the chance that a discordant pair favours the hypothesis is at most Γ/(1+Γ), so the
worst-case one-sided p-value is

    p_upper(Γ) = P(Binomial(D, Γ/(1+Γ)) ≥ T).

Γ = 1 is the ordinary McNemar-type sign test (no hidden bias). The sensitivity figure is the
largest Γ with p_upper < 0.05: a result that survives Γ = 2 would need a hidden characteristic
doubling the odds of treatment to explain it away.

The minimum detectable effect is the smallest true difference in the one-year rate that a
two-sided test at 5% would find with 80% power, for the matched group sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from openiom.evaluation.methods.types import MatchResult, Sensitivity

ALPHA = 0.05
DEFAULT_GAMMAS: tuple[float, ...] = (
    1.0,
    1.1,
    1.2,
    1.3,
    1.4,
    1.5,
    1.75,
    2.0,
    2.5,
    3.0,
    4.0,
    5.0,
    6.0,
)
GAMMA_TOLERANCE = 0.001  # bisection stops when the bracket is narrower than this
GAMMA_CEILING = 1000.0  # beyond this the table just says "> 1000"


def rosenbaum_upper_p(discordant: int, favourable: int, gamma: float) -> float:
    """Worst-case one-sided p-value under hidden bias Γ: P(Binomial(D, Γ/(1+Γ)) ≥ T)."""
    if discordant < 0 or favourable < 0 or favourable > discordant:
        raise ValueError(
            f"need 0 ≤ favourable ≤ discordant (got discordant={discordant}, "
            f"favourable={favourable})"
        )
    if gamma < 1:
        raise ValueError(f"Γ must be at least 1 (got {gamma})")
    if favourable == 0:
        return 1.0
    q = gamma / (1.0 + gamma)
    # sf(T − 1) = P(X > T − 1) = P(X ≥ T), computed without cancellation.
    return float(stats.binom.sf(favourable - 1, discordant, q))


def largest_gamma(discordant: int, favourable: int, *, alpha: float = ALPHA) -> float | None:
    """The largest Γ at which p_upper < alpha; None when the result is not significant at Γ = 1.

    p_upper increases with Γ, so the boundary is found by doubling Γ until p_upper ≥ alpha and
    then bisecting to within GAMMA_TOLERANCE. The value returned is the lower end of the final
    bracket (where the result still holds), rounded *down* to 2 decimals so it never overstates.
    Returns GAMMA_CEILING if the result holds even there (e.g. every discordant pair favourable
    and D large).
    """
    if rosenbaum_upper_p(discordant, favourable, 1.0) >= alpha:
        return None
    low, high = 1.0, 2.0
    while rosenbaum_upper_p(discordant, favourable, high) < alpha:
        low, high = high, high * 2
        if high > GAMMA_CEILING:
            return GAMMA_CEILING
    while high - low > GAMMA_TOLERANCE:
        mid = (low + high) / 2
        if rosenbaum_upper_p(discordant, favourable, mid) < alpha:
            low = mid
        else:
            high = mid
    return math.floor(low * 100) / 100


def rosenbaum_bounds(
    discordant: int, favourable: int, gammas: Sequence[float] | None = None
) -> Sensitivity:
    """p_upper for each Γ in `gammas` (default DEFAULT_GAMMAS) and the largest Γ that holds."""
    grid = DEFAULT_GAMMAS if gammas is None else tuple(gammas)
    table = [(float(g), rosenbaum_upper_p(discordant, favourable, g)) for g in grid]
    return Sensitivity(
        discordant_pairs=discordant,
        favourable_pairs=favourable,
        largest_gamma=largest_gamma(discordant, favourable),
        gamma_table=table,
    )


def discordant_pairs(y: np.ndarray, match: MatchResult) -> tuple[int, int]:
    """(D, T) from the matched pairs of a binary outcome.

    D = pairs whose treated and control outcomes differ; T = those in which the treated person
    did *not* reoffend and the control did, i.e. favourable to "the programme reduces
    reoffending". (For the opposite hypothesis use D − T.)

    Rule for 1:k matching: each matched set contributes one pair, made of the treated person and
    the *first* control listed for that set in `match` (the matcher lists a set's controls
    nearest first, so this is the closest control). Rosenbaum's bound assumes independent pairs;
    with replacement a control can sit in several pairs, and the pipeline says so in a caveat.
    """
    values = np.asarray(y, dtype=float)
    if len(match.pair_id) == 0:
        return 0, 0
    _, first = np.unique(match.pair_id, return_index=True)
    yt = values[match.pair_treated[first]]
    yc = values[match.pair_control[first]]
    if not np.all(np.isin(yt, (0.0, 1.0))) or not np.all(np.isin(yc, (0.0, 1.0))):
        raise ValueError("Rosenbaum bounds need a binary 0/1 outcome")
    discordant = int(np.count_nonzero(yt != yc))
    favourable = int(np.count_nonzero((yt == 0) & (yc == 1)))
    return discordant, favourable


def minimum_detectable_effect(
    n_treated: int,
    n_comparison: float,
    base_rate: float,
    *,
    alpha: float = ALPHA,
    power: float = 0.8,
) -> float:
    """Smallest detectable difference between two proportions, in percentage points.

    MDE = (z_{1−α/2} + z_{power}) × sqrt(p(1 − p) × (1/n_T + 1/n_C)) × 100, with p the
    comparison group's rate (the usual normal approximation with a common variance). For 1:k or
    weighted matching pass the effective comparison size (Kish: (Σw)² / Σw²).
    """
    if n_treated <= 0 or n_comparison <= 0:
        raise ValueError("both groups need at least one person")
    if not 0.0 <= base_rate <= 1.0:
        raise ValueError(f"the base rate must be a proportion between 0 and 1 (got {base_rate})")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    se = math.sqrt(base_rate * (1 - base_rate) * (1 / n_treated + 1 / n_comparison))
    return float(z * se * 100)
