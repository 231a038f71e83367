"""Greedy nearest-neighbour matching on a one-dimensional distance (the logit of the propensity score).

The rules are those of R's MatchIt `method = "nearest"` on a distance vector (`nn_matchC_vec`, 4.5
onwards), so a design run here and in R selects the same pairs; Debian's MatchIt 4.5.1 has two
defects that `_match(matchit_451=True)` reproduces for the parity test
(tests/evaluation/test_matchit_parity.py), which then agrees link for link:

- everyone is put in order of distance, ties in the order of the rows (a stable sort);
- treated units are taken in `spec.order`: "descending" (MatchIt's "largest", its default for a
  propensity score), "ascending" ("smallest"), "data" (row order) or "random" (seeded);
- a treated unit's match is the nearest control still available on its left in that order and the
  nearest on its right; the left one wins when they are equally far (so among controls at exactly
  the same distance, the one nearer in the ordering wins);
- with 1:k matching, every treated unit gets its first control before anyone gets a second
  (k rounds over the treated units);
- without replacement a control is used once; with replacement it may serve several treated units
  but never twice the same one;
- the caliper is `spec.caliper_sd` × the standard deviation (n − 1) of the distance over ALL units,
  treated and controls (MatchIt's `std.caliper = TRUE`); a control exactly at the caliper is
  accepted; a treated unit with no control inside it stays unmatched;
- `exact` cells: a treated unit is matched only within its own cell.

MatchIt's ATT weights: 1 for each matched treated unit; each control gets Σ 1/(controls in the set)
over the sets it is in, then the control weights are scaled to add up to the number of distinct
controls used. Unmatched units weigh 0.

Speed: one sort of the pool, a binary search per treated unit, and a "next available" skip list with
path compression for the used controls — no treated × control distance matrix — so 2,000 treated
units against 1,000,000 controls take well under a second.
"""

from __future__ import annotations

import numpy as np

from openiom.evaluation.methods.types import MatchingSpec, MatchResult

ORDERS = ("descending", "ascending", "data", "random")


def _find(parent: list[int], p: int) -> int:
    """Root of p in a skip list: the nearest available slot in the list's direction."""
    root = p
    while parent[root] != root:
        root = parent[root]
    while parent[p] != root:  # path compression
        parent[p], p = root, parent[p]
    return root


def _validate(
    distance: np.ndarray, treated: np.ndarray, spec: MatchingSpec, exact: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    d = np.asarray(distance, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError("the distance (logit) must be one value per row")
    n = d.shape[0]
    t = np.asarray(treated)
    if t.shape != (n,):
        raise ValueError(f"treated has {t.size} values; the distance has {n}")
    if t.dtype != bool:
        ok = np.isin(t, (0, 1))
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"treated must be 0 or 1: row {row} is {t[row].item()!r}")
        t = t.astype(bool)
    bad = ~np.isfinite(d)
    if bad.any():
        raise ValueError(
            f"the distance is missing or not finite at row {int(np.flatnonzero(bad)[0])}"
        )
    cells = None
    if exact is not None:
        cells = np.asarray(exact)
        if cells.shape != (n,):
            raise ValueError(f"exact has {cells.size} values; the distance has {n}")
        if not np.issubdtype(cells.dtype, np.integer):
            raise ValueError("exact must be an integer cell code per row")
    if int(spec.ratio) != spec.ratio or spec.ratio < 1:
        raise ValueError(f"ratio must be a whole number of at least 1, not {spec.ratio!r}")
    if spec.caliper_sd is not None and not (spec.caliper_sd >= 0 and np.isfinite(spec.caliper_sd)):
        raise ValueError(
            f"caliper_sd must be a non-negative number or None, not {spec.caliper_sd!r}"
        )
    if spec.order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {spec.order!r}")
    return d, t, cells


def match(
    logit: np.ndarray, treated: np.ndarray, spec: MatchingSpec, exact: np.ndarray | None = None
) -> MatchResult:
    """Match treated units to controls on `logit` (any 1-D distance) following `spec`.

    `treated` is a bool or 0/1 array and `exact` an integer cell code per row (or None). Row
    indices in the result are positions in these arrays. Raises ValueError for malformed input.
    """
    return _match(logit, treated, spec, exact)


def _match(
    logit: np.ndarray,
    treated: np.ndarray,
    spec: MatchingSpec,
    exact: np.ndarray | None = None,
    *,
    matchit_451: bool = False,
) -> MatchResult:
    """`match`, plus a switch for the test that reproduces R's MatchIt 4.5.1 exactly.

    `matchit_451=True` copies two defects of MatchIt 4.5.1 (as Debian ships it), only so that
    tests/evaluation/test_matchit_parity.py can show they are the only differences between the
    two implementations; never use it for an evaluation:
    - |distance difference| is truncated to an integer before it is compared (C's `abs(int)`
      picked for a double; MatchIt issue #163, fixed in 4.5.4), so on the propensity score every
      gap is 0 and the available control just below the treated unit always wins, and a caliper
      below 1 never excludes anyone closer than 1;
    - from the second round of 1:k matching, the control in the row AFTER each of the treated
      unit's earlier matches is skipped (a 0-based index compared with a 1-based one in
      `nn_matchC_vec`'s `check_in`; MatchIt's NEWS for 4.5.4 lists fixes for nearest-neighbour
      matching with ratio > 1). Only without replacement: with replacement and k > 1, 4.5.1 also
      fails to exclude a unit's own earlier matches, which is not copied.
    """
    d, t, cells = _validate(logit, treated, spec, exact)
    n = d.shape[0]
    ratio = int(spec.ratio)
    n_treated = int(t.sum())
    n_controls = n - n_treated
    caliper: float | None = None
    if spec.caliper_sd is not None:
        sd = float(np.std(d, ddof=1)) if n > 1 else 0.0
        caliper = float(spec.caliper_sd) * sd

    # Everyone in order of (cell, distance), ties by row: MatchIt's stable sort.list(distance).
    order_all = np.argsort(d, kind="stable")
    if cells is not None:  # then by cell, keeping that order within each cell
        order_all = order_all[np.argsort(cells[order_all], kind="stable")]
    is_control_sorted = ~t[order_all]
    controls = order_all[is_control_sorted]  # control rows in that order
    control_d = d[controls]
    # A treated unit's insertion point among the sorted controls = controls sorted before it.
    before = np.cumsum(is_control_sorted) - is_control_sorted
    treated_sorted = order_all[~is_control_sorted]
    insert = np.empty(n, dtype=np.int64)
    insert[treated_sorted] = before[~is_control_sorted]

    treated_rows = np.flatnonzero(t)
    # Treated processing order (MatchIt's m.order); with replacement the order cannot matter.
    td = d[treated_rows]
    if spec.order == "descending":
        sequence = treated_rows[np.argsort(-td, kind="stable")]
    elif spec.order == "ascending":
        sequence = treated_rows[np.argsort(td, kind="stable")]
    elif spec.order == "random":
        sequence = treated_rows[np.random.default_rng(spec.seed).permutation(n_treated)]
    else:
        sequence = treated_rows
    # Per treated unit in that order: its distance, insertion point and its cell's control range.
    if cells is None:
        lo = np.zeros(n_treated, dtype=np.int64)
        hi = np.full(n_treated, n_controls, dtype=np.int64)
    else:
        control_cells = cells[controls]
        lo = np.searchsorted(control_cells, cells[sequence], side="left")
        hi = np.searchsorted(control_cells, cells[sequence], side="right")
    work = list(
        zip(
            sequence.tolist(),
            d[sequence].tolist(),
            insert[sequence].tolist(),
            lo.tolist(),
            hi.tolist(),
            strict=True,
        )
    )

    links: list[tuple[int, int, int]] = []  # (treated row, slot, control position)
    cd = control_d.tolist()
    cal = np.inf if caliper is None else caliper

    def gaps(i_d: float, left: int, right: int, a: int, b: int) -> tuple[float, float]:
        gl = i_d - cd[left] if left >= a else np.inf
        gr = cd[right] - i_d if right < b else np.inf
        if matchit_451:
            gl = float(int(gl)) if gl != np.inf else gl
            gr = float(int(gr)) if gr != np.inf else gr
        return gl, gr

    if spec.replace:
        for i, di, pos, a, b in work:
            left, right = pos - 1, pos
            for slot in range(ratio):
                gl, gr = gaps(di, left, right, a, b)
                if gl <= gr and gl <= cal and gl < np.inf:
                    links.append((i, slot, left))
                    left -= 1
                elif gr < gl and gr <= cal:
                    links.append((i, slot, right))
                    right += 1
                else:
                    break
    else:
        # Skip lists over control positions: nxt[p] leads to the nearest available position ≥ p
        # (n_controls = none), prv[p + 1] to the nearest available ≤ p (stored shifted by one,
        # 0 = none).
        nxt = list(range(n_controls + 1))
        prv = list(range(n_controls + 1))
        failed: set[int] = set()
        skip: dict[int, set[int]] = {}  # MatchIt 4.5.1's off-by-one exclusions, per treated row
        position = None  # control position by row (+ one past the end), for those exclusions
        if matchit_451:
            position = np.full(n + 1, -1, dtype=np.int64)
            position[controls] = np.arange(n_controls)
        for slot in range(ratio):
            for i, di, pos, a, b in work:
                if i in failed:
                    continue
                left = _find(prv, pos) - 1  # nearest available position ≤ pos − 1
                right = _find(nxt, pos)
                excluded = skip.get(i)
                if excluded:
                    while left >= 0 and left in excluded:
                        left = _find(prv, left) - 1
                    while right < n_controls and right in excluded:
                        right = _find(nxt, right + 1)
                gl, gr = gaps(di, left, right, a, b)
                if gl <= gr and gl <= cal and gl < np.inf:
                    k = left
                elif gr < gl and gr <= cal:
                    k = right
                else:
                    failed.add(i)  # nothing available now means nothing in later rounds either
                    continue
                links.append((i, slot, k))
                nxt[k] = k + 1
                prv[k + 1] = k
                if position is not None and position[controls[k] + 1] >= 0:
                    skip.setdefault(i, set()).add(int(position[controls[k] + 1]))

    return _result(links, controls, t, n_treated, n_controls, caliper)


def _result(
    links: list[tuple[int, int, int]],
    controls: np.ndarray,
    t: np.ndarray,
    n_treated: int,
    n_controls: int,
    caliper: float | None,
) -> MatchResult:
    n = t.shape[0]
    if links:
        arr = np.asarray(links, dtype=np.int64)
        pair_treated, slot, pair_control = arr[:, 0], arr[:, 1], controls[arr[:, 2]]
        # Sets numbered in row order of their treated unit; links within a set in slot order.
        by = np.lexsort((slot, pair_treated))
        pair_treated, pair_control = pair_treated[by], pair_control[by]
        matched, pair_id = np.unique(pair_treated, return_inverse=True)
    else:
        pair_treated = pair_control = pair_id = matched = np.empty(0, dtype=np.int64)

    weights = np.zeros(n)
    weights[matched] = 1.0
    if pair_control.size:
        set_size = np.bincount(pair_id)
        np.add.at(weights, pair_control, 1.0 / set_size[pair_id])
        used = np.unique(pair_control)
        weights[used] *= used.size / weights[used].sum()
        n_used = int(used.size)
    else:
        n_used = 0
    return MatchResult(
        treated_rows=matched,
        pair_treated=pair_treated,
        pair_control=pair_control,
        pair_id=pair_id.astype(np.int64),
        weights=weights,
        caliper=caliper,
        n_treated=n_treated,
        n_treated_matched=int(matched.size),
        n_treated_unmatched=n_treated - int(matched.size),
        n_controls=n_controls,
        n_controls_used=n_used,
    )
