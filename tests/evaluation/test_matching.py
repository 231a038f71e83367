"""Nearest-neighbour matching: hand-built cases, a brute-force reference and properties.

Each small case's expected links are worked out by hand in its comment from the rules in
`openiom.evaluation.methods.matching` (MatchIt's: nearest available control, the lower one on an
equal gap, treated units in the chosen order, k rounds for 1:k, caliper = caliper_sd × SD (n − 1)
of the distance over everyone).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiom.evaluation.methods.matching import match
from openiom.evaluation.methods.types import MatchingSpec, MatchResult


def links(result: MatchResult) -> list[tuple[int, int]]:
    return list(zip(result.pair_treated.tolist(), result.pair_control.tolist(), strict=True))


def spec(**kw: object) -> MatchingSpec:
    kw.setdefault("caliper_sd", None)
    return MatchingSpec(**kw)  # type: ignore[arg-type]


def test_one_to_one_descending_order_without_replacement() -> None:
    # rows:      0    1    2    3    4
    # distance:  1.0  1.1  3.0  2.9  0.0
    # treated:   T    c    T    c    c
    # Descending: row 2 (3.0) first takes row 3 (2.9, gap 0.1); row 0 (1.0) then takes row 1 (1.1).
    d = np.array([1.0, 1.1, 3.0, 2.9, 0.0])
    t = np.array([1, 0, 1, 0, 0])
    r = match(d, t, spec())
    assert links(r) == [(0, 1), (2, 3)]
    assert r.pair_id.tolist() == [0, 1]
    assert r.treated_rows.tolist() == [0, 2]
    assert r.weights.tolist() == [1, 1, 1, 1, 0]
    assert (r.n_treated, r.n_treated_matched, r.n_treated_unmatched) == (2, 2, 0)
    assert (r.n_controls, r.n_controls_used) == (3, 2)
    assert r.caliper is None


def test_order_decides_who_gets_a_contested_control() -> None:
    # rows:      0    1    2    3
    # distance:  1.0  1.2  1.5  3.0
    # treated:   T    c    T    c
    # Row 1 is nearest to both treated units. Descending: row 2 (1.5) takes row 1, row 0 gets
    # row 3 (its only option). Ascending: row 0 takes row 1, row 2 gets row 3.
    d = np.array([1.0, 1.2, 1.5, 3.0])
    t = np.array([True, False, True, False])
    assert links(match(d, t, spec(order="descending"))) == [(0, 3), (2, 1)]
    assert links(match(d, t, spec(order="ascending"))) == [(0, 1), (2, 3)]
    # "data": row order, i.e. row 0 first, as ascending here.
    assert links(match(d, t, spec(order="data"))) == [(0, 1), (2, 3)]
    # "random" is reproducible from the seed.
    a = match(d, t, spec(order="random", seed=1))
    b = match(d, t, spec(order="random", seed=1))
    assert links(a) == links(b)


def test_equal_gaps_go_to_the_lower_control_and_ties_follow_row_order() -> None:
    # Treated row 0 at 5.0; controls at 4.0 (row 1) and 6.0 (row 2): equal gaps, the lower wins.
    r = match(np.array([5.0, 4.0, 6.0]), np.array([1, 0, 0]), spec())
    assert links(r) == [(0, 1)]
    # Everyone at 5.0: in row order the treated row 2 sits between control rows 1 and 3; the
    # control before it in that order (row 1) wins.
    r = match(np.array([7.0, 5.0, 5.0, 5.0]), np.array([0, 0, 1, 0]), spec())
    assert links(r) == [(2, 1)]
    # Treated row 0 at 5.0 comes first: no control before it, so the next in row order (row 1).
    r = match(np.array([5.0, 5.0, 5.0]), np.array([1, 0, 0]), spec())
    assert links(r) == [(0, 1)]


def test_ratio_takes_first_matches_before_second_matches() -> None:
    # rows:      0    1    2    3    4    5
    # distance:  2.0  1.9  2.2  2.4  2.1  5.0
    # treated:   T    c    c    c    T    c
    # Descending: round 1: row 4 (2.1) takes row 2 (2.2; gap 0.1 vs row 1's 0.2); row 0 (2.0)
    # takes row 1 (1.9). Round 2: row 4: left none, right row 3 (0.3) → row 3; row 0: only
    # row 5 left (3.0) → row 5.
    d = np.array([2.0, 1.9, 2.2, 2.4, 2.1, 5.0])
    t = np.array([1, 0, 0, 0, 1, 0])
    r = match(d, t, spec(ratio=2))
    assert links(r) == [(0, 1), (0, 5), (4, 2), (4, 3)]
    assert r.pair_id.tolist() == [0, 0, 1, 1]
    # Each control is in one set of 2: weight 1/2, scaled so controls add up to 4 used → 1.
    assert r.weights.tolist() == [1, 1, 1, 1, 1, 1]


def test_with_replacement_a_control_serves_several_treated_units() -> None:
    # rows:      0    1    2    3
    # distance:  1.0  1.05 1.1  3.0
    # treated:   T    c    T    c
    # Without replacement row 2 (descending first) takes row 1 and row 0 is left with row 3;
    # with replacement both take row 1.
    d = np.array([1.0, 1.05, 1.1, 3.0])
    t = np.array([1, 0, 1, 0])
    assert links(match(d, t, spec())) == [(0, 3), (2, 1)]
    r = match(d, t, spec(replace=True))
    assert links(r) == [(0, 1), (2, 1)]
    assert r.n_controls_used == 1
    # MatchIt's weights: row 1 is in two sets of one control → 1 + 1 = 2, scaled so the control
    # weights add up to the 1 control used → 1.
    assert r.weights.tolist() == [1, 1, 1, 0]


def test_weights_with_replacement_and_ratio() -> None:
    # rows:     0    1    2    3    4
    # distance: 0.0  0.1  0.2  1.0  1.1
    # treated:  T    c    c    T    c
    # 1:2 with replacement: row 0 → rows 1, 2; row 3 → rows 4 (0.1), 2 (0.8 < row 1's 0.9).
    # Raw weights: row 1: 1/2; row 2: 1/2 + 1/2 = 1; row 4: 1/2. Sum 2, 3 controls used →
    # scaled by 3/2: 0.75, 1.5, 0.75.
    d = np.array([0.0, 0.1, 0.2, 1.0, 1.1])
    t = np.array([1, 0, 0, 1, 0])
    r = match(d, t, spec(ratio=2, replace=True))
    assert links(r) == [(0, 1), (0, 2), (3, 4), (3, 2)]
    np.testing.assert_allclose(r.weights, [1, 0.75, 1.5, 1, 0.75])


def test_caliper_is_a_multiple_of_the_sd_over_everyone_and_drops_a_far_unit() -> None:
    # distance 0, 0.1, 0.2, 0.3, 5 (treated: rows 0 and 4). SD (n − 1) of all five:
    # mean 1.12; squares 1.2544 + 1.0404 + 0.8464 + 0.6724 + 15.0544 = 18.868; /4 = 4.717;
    # SD 2.17187. Caliper 0.2 SD = 0.43437: row 0 gets row 1 (0.1); row 4's nearest is row 3,
    # 4.7 away: unmatched.
    d = np.array([0.0, 0.1, 0.2, 0.3, 5.0])
    t = np.array([1, 0, 0, 0, 1])
    r = match(d, t, MatchingSpec(caliper_sd=0.2))
    assert r.caliper == pytest.approx(0.2 * math.sqrt(18.868 / 4))
    assert links(r) == [(0, 1)]
    assert (r.n_treated_matched, r.n_treated_unmatched) == (1, 1)
    assert r.weights[4] == 0
    # A control exactly at the caliper is accepted (MatchIt rejects only gaps > caliper).
    # Distances 0, 1, 2: SD (n − 1) exactly 1, so caliper_sd=1 gives a caliper of exactly 1.
    r = match(np.array([0.0, 1.0, 2.0]), np.array([1, 0, 0]), MatchingSpec(caliper_sd=1.0))
    assert r.caliper == 1.0
    assert links(r) == [(0, 1)]
    r = match(np.array([0.0, 1.0, 2.0]), np.array([1, 0, 0]), MatchingSpec(caliper_sd=0.999))
    assert links(r) == []


def test_exact_cells() -> None:
    # rows:     0    1    2    3    4
    # distance: 1.0  1.01 1.5  2.0  9.0
    # treated:  T    c    c    T    c
    # cell:     0    1    0    1    0
    # Row 3 (cell 1) may only take row 1; row 0 (cell 0) takes row 2 though row 1 is nearer.
    d = np.array([1.0, 1.01, 1.5, 2.0, 9.0])
    t = np.array([1, 0, 0, 1, 0])
    cells = np.array([0, 1, 0, 1, 0])
    assert links(match(d, t, spec(), exact=cells)) == [(0, 2), (3, 1)]
    # A cell with no controls leaves its treated unit unmatched.
    r = match(d, t, spec(), exact=np.array([0, 0, 0, 2, 0]))
    assert links(r) == [(0, 1)]
    assert r.n_treated_unmatched == 1


def test_more_treated_than_controls_and_empty_groups() -> None:
    # Descending: row 2 (3.0) takes the only control; rows 0 and 1 stay unmatched.
    r = match(np.array([1.0, 2.0, 3.0, 2.5]), np.array([1, 1, 1, 0]), spec())
    assert links(r) == [(2, 3)]
    assert r.n_treated_unmatched == 2
    r = match(np.array([1.0, 2.0]), np.array([1, 1]), spec())
    assert (r.n_treated_matched, r.n_controls, r.pair_id.size) == (0, 0, 0)
    assert r.weights.tolist() == [0, 0]
    r = match(np.array([1.0, 2.0]), np.array([0, 0]), MatchingSpec())
    assert (r.n_treated, r.n_treated_matched, r.n_controls_used) == (0, 0, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logit": [1.0, np.nan], "treated": [1, 0]}, "not finite at row 1"),
        ({"logit": [1.0, 2.0], "treated": [1, 2]}, "treated must be 0 or 1: row 1 is 2"),
        ({"logit": [1.0, 2.0], "treated": [1, 0, 0]}, "treated has 3 values; the distance has 2"),
        ({"logit": [1.0, 2.0], "treated": [1, 0], "exact": [0.5, 1.0]}, "integer cell code"),
        ({"logit": [1.0, 2.0], "treated": [1, 0], "exact": [0]}, "exact has 1 values"),
        ({"logit": [1.0, 2.0], "treated": [1, 0], "ratio": 0}, "ratio must be a whole number"),
        ({"logit": [1.0, 2.0], "treated": [1, 0], "caliper_sd": -1.0}, "caliper_sd must be"),
        ({"logit": [1.0, 2.0], "treated": [1, 0], "order": "sideways"}, "order must be one of"),
    ],
)
def test_bad_input_gets_a_specific_error(kwargs: dict[str, object], message: str) -> None:
    exact = kwargs.pop("exact", None)
    logit = np.array(kwargs.pop("logit"))
    treated = np.array(kwargs.pop("treated"))
    with pytest.raises(ValueError, match=message):
        match(logit, treated, MatchingSpec(**kwargs), None if exact is None else np.array(exact))  # type: ignore[arg-type]


# --- a brute-force reference ---------------------------------------------------------------------


def reference(
    d: np.ndarray, t: np.ndarray, s: MatchingSpec, cells: np.ndarray | None
) -> list[tuple[int, int]]:
    """The same rules written the slow, obvious way: scan every control for every choice."""
    n = len(d)
    rank = np.empty(n, dtype=int)
    rank[np.argsort(d, kind="stable")] = np.arange(n)  # position in (distance, row) order
    cal = math.inf if s.caliper_sd is None else s.caliper_sd * float(np.std(d, ddof=1))
    treated = [i for i in range(n) if t[i]]
    if s.order == "descending":
        treated.sort(key=lambda i: -d[i])
    elif s.order == "ascending":
        treated.sort(key=lambda i: d[i])
    used: set[int] = set()
    chosen: dict[int, list[int]] = {i: [] for i in treated}
    for _ in range(s.ratio):
        for i in treated:
            ok = [
                c
                for c in range(n)
                if not t[c]
                and c not in chosen[i]
                and (s.replace or c not in used)
                and (cells is None or cells[c] == cells[i])
            ]
            left = [c for c in ok if rank[c] < rank[i]]
            right = [c for c in ok if rank[c] > rank[i]]
            best_left = max(left, key=lambda c: rank[c]) if left else None
            best_right = min(right, key=lambda c: rank[c]) if right else None
            gl = d[i] - d[best_left] if best_left is not None else math.inf
            gr = d[best_right] - d[i] if best_right is not None else math.inf
            if best_left is not None and gl <= gr and gl <= cal:
                pick = best_left
            elif best_right is not None and gr < gl and gr <= cal:
                pick = best_right
            else:
                continue
            assert pick is not None
            chosen[i].append(pick)
            used.add(pick)
    return sorted((i, c) for i in treated for c in chosen[i])


def sorted_links(r: MatchResult) -> list[tuple[int, int]]:
    return sorted(links(r))


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, MatchingSpec, np.ndarray | None]:
    n = draw(st.integers(2, 40))
    # Coarse values make ties (equal distances, equal gaps) common.
    d = np.array(draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n)), dtype=float) / 4
    t = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    s = MatchingSpec(
        ratio=draw(st.integers(1, 3)),
        replace=draw(st.booleans()),
        caliper_sd=draw(st.sampled_from([None, 0.05, 0.2, 1.0])),
        order=draw(st.sampled_from(["descending", "ascending", "data"])),
    )
    cells = (
        np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
        if draw(st.booleans())
        else None
    )
    return d, t, s, cells


@settings(max_examples=300, deadline=None)
@given(problems())
def test_matches_the_brute_force_reference(
    problem: tuple[np.ndarray, np.ndarray, MatchingSpec, np.ndarray | None],
) -> None:
    d, t, s, cells = problem
    assert sorted_links(match(d, t, s, cells)) == reference(d, t, s, cells)


@settings(max_examples=300, deadline=None)
@given(problems())
def test_properties(
    problem: tuple[np.ndarray, np.ndarray, MatchingSpec, np.ndarray | None],
) -> None:
    d, t, s, cells = problem
    r = match(d, t, s, cells)
    pt, pc = r.pair_treated, r.pair_control
    assert t[pt].all() and not t[pc].any()
    if not s.replace:
        assert len(set(pc.tolist())) == pc.size  # no control used twice
    assert len(set(links(r))) == pc.size  # never the same control twice in one set
    if r.caliper is not None:
        assert np.all(np.abs(d[pt] - d[pc]) <= r.caliper)  # every link within the caliper
    if cells is not None:
        assert np.all(cells[pt] == cells[pc])
    assert np.all(np.bincount(r.pair_id, minlength=r.n_treated_matched) <= s.ratio)
    assert r.n_treated_matched + r.n_treated_unmatched == r.n_treated == int(t.sum())
    assert r.n_controls == int((~t).sum())
    assert r.n_controls_used == len(set(pc.tolist()))
    # Weights: 1 per matched treated unit, controls add up to the number used, 0 elsewhere.
    assert np.all(r.weights[r.treated_rows] == 1)
    assert r.weights[~t].sum() == pytest.approx(r.n_controls_used)
    assert np.count_nonzero(r.weights) == r.n_treated_matched + r.n_controls_used
    # Treated rows and pair ids agree: set j belongs to treated_rows[j].
    assert np.array_equal(r.treated_rows[r.pair_id], pt)


def test_large_pool_is_fast_and_sound() -> None:
    """2,000 treated against 200,000 controls (the benchmark runs 1,000,000)."""
    rng = np.random.default_rng(11)
    n = 202_000
    d = rng.normal(size=n)
    t = np.zeros(n, dtype=bool)
    t[rng.choice(n, 2000, replace=False)] = True
    d[t] += 1.0
    r = match(d, t, MatchingSpec(ratio=3, caliper_sd=None))
    assert r.n_treated_matched == 2000
    assert len(set(r.pair_control.tolist())) == r.pair_control.size == 6000
    r = match(d, t, MatchingSpec(ratio=3))
    assert r.caliper is not None
    assert np.all(np.abs(d[r.pair_treated] - d[r.pair_control]) <= r.caliper)
    assert len(set(r.pair_control.tolist())) == r.pair_control.size
