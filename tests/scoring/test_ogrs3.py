"""OGRS3 reproduces every published test vector (evaluation-methods.md §4) and behaves sanely."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiom.scoring import ogrs3

VIOLENCE = ogrs3.OFFENCE_WEIGHTS["Violence against the person"]
DAMAGE = ogrs3.OFFENCE_WEIGHTS["Criminal damage"]

# (sanctions, age at current conviction, age at first sanction, age at start, sex, weight, 1yr, 2yr)
VECTORS = [
    (1, 20, 20, 20, "M", VIOLENCE, 0.121616, 0.221305),
    (2, 20, 20, 20, "M", VIOLENCE, 0.315812, 0.486518),
    (5, 20, 20, 20, "M", VIOLENCE, 0.592258, 0.748843),
    # Female, age 43 (start of follow-up: age-gender band), convicted at 37, first sanction at 14.
    (6, 37, 14, 43, "F", DAMAGE, 0.1698, 0.2957),
]


@pytest.mark.parametrize(("s", "cur", "first", "start", "sex", "w", "one", "two"), VECTORS)
def test_scalar_reproduces_published_vectors(
    s: int, cur: int, first: int, start: int, sex: str, w: float, one: float, two: float
) -> None:
    result = ogrs3.ogrs3(
        sanctions=s,
        age_at_current_conviction=cur,
        age_at_first_sanction=first,
        age_at_start=start,
        sex=sex,
        offence_weight=w,
    )
    assert round(result.one_year, 4) == round(one, 4)
    assert round(result.two_year, 4) == round(two, 4)


def test_vectorised_reproduces_published_vectors() -> None:
    frame = pl.DataFrame(
        [v[:6] for v in VECTORS],
        schema=[
            "sanctions",
            "age_at_current_conviction",
            "age_at_first_sanction",
            "age_at_start",
            "sex",
            "offence_weight",
        ],
        orient="row",
    )
    out = ogrs3.ogrs3_frame(frame)
    assert [round(x, 4) for x in out["ogrs3_1yr"]] == [round(v[6], 4) for v in VECTORS]
    assert [round(x, 4) for x in out["ogrs3_2yr"]] == [round(v[7], 4) for v in VECTORS]
    scalar_bands = [
        ogrs3.ogrs3(
            sanctions=v[0],
            age_at_current_conviction=v[1],
            age_at_first_sanction=v[2],
            age_at_start=v[3],
            sex=v[4],
            offence_weight=v[5],
        ).band
        for v in VECTORS
    ]
    assert out["ogrs3_band"].to_list() == scalar_bands


def test_offence_weight_falls_back_to_category_then_other() -> None:
    assert ogrs3.offence_weight(ogrs3_weight=0.5, category="Robbery") == 0.5
    assert (
        ogrs3.offence_weight(ogrs3_weight=None, category="Robbery")
        == ogrs3.OFFENCE_WEIGHTS["Robbery"]
    )
    assert ogrs3.offence_weight(ogrs3_weight=None, category="Needs exact offence details") == (
        ogrs3.OTHER_OFFENCE_WEIGHT
    )


@pytest.mark.parametrize(
    ("pct", "band"),
    [
        (0, "Low"),
        (49.9, "Low"),
        (50, "Medium"),
        (74.99, "Medium"),
        (75, "High"),
        (89.9, "High"),
        (90, "Very high"),
        (100, "Very high"),
    ],
)
def test_bands_on_two_year_percentage(pct: float, band: str) -> None:
    assert ogrs3.band_for(pct) == band


def test_undefined_inputs_are_refused_clearly() -> None:
    with pytest.raises(ogrs3.OGRS3Error, match="at least one sanction"):
        ogrs3.ogrs3(
            sanctions=0,
            age_at_current_conviction=20,
            age_at_first_sanction=20,
            age_at_start=20,
            sex="M",
            offence_weight=0,
        )
    with pytest.raises(ogrs3.OGRS3Error, match="sex"):
        ogrs3.ogrs3(
            sanctions=1,
            age_at_current_conviction=20,
            age_at_first_sanction=20,
            age_at_start=20,
            sex="U",
            offence_weight=0,
        )
    frame = pl.DataFrame(
        {
            "sanctions": [0],
            "age_at_current_conviction": [20],
            "age_at_first_sanction": [20],
            "age_at_start": [20],
            "sex": ["M"],
            "offence_weight": [0.0],
        }
    )
    assert ogrs3.ogrs3_frame(frame)["ogrs3_2yr"].to_list() == [None]


ages = st.integers(min_value=10, max_value=90)


@given(
    first=ages,
    gap=st.integers(min_value=0, max_value=40),
    extra=st.integers(min_value=0, max_value=5),
    s=st.integers(min_value=1, max_value=80),
    sex=st.sampled_from(["M", "F"]),
    category=st.sampled_from(sorted(ogrs3.OFFENCE_WEIGHTS)),
)
def test_properties(first: int, gap: int, extra: int, s: int, sex: str, category: str) -> None:
    kwargs = {
        "age_at_current_conviction": first + gap,
        "age_at_first_sanction": first,
        "age_at_start": first + gap + extra,
        "sex": sex,
        "offence_weight": ogrs3.OFFENCE_WEIGHTS[category],
    }
    now = ogrs3.ogrs3(sanctions=s, **kwargs)  # type: ignore[arg-type]
    more = ogrs3.ogrs3(sanctions=s + 1, **kwargs)  # type: ignore[arg-type]
    assert 0 < now.one_year < 1 and 0 < now.two_year < 1
    assert now.two_year >= now.one_year
    assert more.one_year > now.one_year and more.two_year > now.two_year
    vec = ogrs3.ogrs3_frame(pl.DataFrame({"sanctions": [s], **{k: [v] for k, v in kwargs.items()}}))
    assert vec["ogrs3_2yr"][0] == pytest.approx(now.two_year, rel=1e-12)
