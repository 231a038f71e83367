"""Composition and relative rate indices, checked against the formula by hand."""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiom.scrutiny.attributes import AgeBands, age_expr
from openiom.scrutiny.disproportionality import (
    DisproportionalityConfig,
    DisproportionalityError,
    disproportionality,
    relative_rate_index,
)
from openiom.scrutiny.stats import Z95

AS_OF = dt.date(2025, 6, 30)


def people(groups: list[tuple[int, int, dict[str, object]]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(eligible count, selected count, attributes) blocks -> (selected, eligible) frames."""
    rows, selected_ids = [], []
    pid = 0
    for n_eligible, n_selected, attrs in groups:
        for i in range(n_eligible):
            base: dict[str, object] = {
                "person_id": pid,
                "sex": "M",
                "ethnicity_officer_defined": "IC1",
                "ethnicity_self_defined": "W1",
                "date_of_birth": dt.date(1990, 1, 1),
            }
            base.update(attrs)
            rows.append(base)
            if i < n_selected:
                selected_ids.append(pid)
            pid += 1
    eligible = pl.DataFrame(rows)
    return eligible.filter(pl.col("person_id").is_in(selected_ids)), eligible


def config(**kw: object) -> DisproportionalityConfig:
    return DisproportionalityConfig(as_of=AS_OF, **kw)  # type: ignore[arg-type]


def test_rri_and_ci_by_hand() -> None:
    # Black: 30 selected of 100 eligible (30%); White: 50 of 500 (10%). RRI = 0.3 / 0.1 = 3.
    # SE(ln RRI) = sqrt(1/30 − 1/100 + 1/50 − 1/500) = sqrt(0.0413333) = 0.203306;
    # CI = 3 · exp(±1.96 · 0.203306) = 3 · exp(±0.398473) = 2.0140 to 4.4687.
    sel, elig = people(
        [
            (500, 50, {}),
            (100, 30, {"ethnicity_officer_defined": "IC3", "ethnicity_self_defined": "B1"}),
        ]
    )
    report = disproportionality(selected=sel, eligible=elig, config=config())
    eth = report.dimension("ethnicity_officer_defined")
    assert eth.reference == "White"
    black = next(c for c in eth.categories if c.category == "Black")
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 50 - 1 / 500)
    assert se == pytest.approx(0.203306, abs=1e-6)
    assert black.rri == pytest.approx(3.0)
    assert black.rri_ci_low == pytest.approx(3 * math.exp(-Z95 * se))
    assert black.rri_ci_low == pytest.approx(2.0140, abs=1e-4)
    assert black.rri_ci_high == pytest.approx(4.4687, abs=1e-4)
    assert black.rri_status == "estimated"
    # Composition: 80 selected, 600 eligible; Black share 30/80 = 0.375 against 100/600 = 0.1667,
    # a share ratio of 2.25 (= selection rate 0.3 over the overall rate 80/600 = 0.1333).
    assert black.share_of_selected == pytest.approx(0.375)
    assert black.share_of_eligible == pytest.approx(1 / 6)
    assert black.share_ratio == pytest.approx(2.25)
    assert black.sentence == (
        "Black people were selected at 3.0 times the rate of White people (95% CI 2.0 to 4.5)."
    )
    white = next(c for c in eth.categories if c.category == "White")
    assert white.is_reference and white.rri == 1.0
    # Broad groups are listed even when empty, so an absent group is visible (no Mixed for IC).
    assert [c.category for c in eth.categories] == ["White", "Asian", "Black", "Other"]
    asian = eth.categories[1]
    assert asian.eligible == 0 and asian.rri is None and asian.rri_status == "not_estimable"
    # The self-defined codes collapse the same way (B1 Black: Caribbean -> Black).
    self_black = next(
        c for c in report.dimension("ethnicity_self_defined").categories if c.category == "Black"
    )
    assert self_black.rri == pytest.approx(3.0)
    json.dumps(report.to_dict(), allow_nan=False)  # JSON-ready: no NaN, no dates


def test_haldane_correction_by_hand() -> None:
    # Group: 0 of 20 selected; reference 10 of 100. A zero cell, so add 0.5 to each cell:
    # a' = 0.5, n1' = 21, c' = 10.5, n2' = 101; RRI = (0.5/21)/(10.5/101) = 0.229025;
    # SE = sqrt(1/0.5 − 1/21 + 1/10.5 − 1/101) = sqrt(2.037718) = 1.427487.
    rr = relative_rate_index(0, 20, 10, 100)
    assert rr.status == "corrected"
    assert rr.estimate == pytest.approx(0.229025, abs=1e-6)
    se = 1.427487
    assert rr.ci_low == pytest.approx(0.229025 * math.exp(-Z95 * se), rel=1e-5)
    assert rr.ci_high == pytest.approx(0.229025 * math.exp(Z95 * se), rel=1e-5)
    # With correction off, the same comparison is honestly "not estimable".
    assert relative_rate_index(0, 20, 10, 100, zero_correction="none").status == "not_estimable"
    # Nobody selected in either group: nothing to compare, whatever the correction.
    assert relative_rate_index(0, 20, 0, 100).status == "not_estimable"
    assert relative_rate_index(0, 0, 10, 100).status == "not_estimable"


def test_zero_count_sentence_flags_correction() -> None:
    sel, elig = people([(100, 10, {}), (20, 0, {"sex": "F"})])
    sex = disproportionality(selected=sel, eligible=elig, config=config(min_count=0)).dimension(
        "sex"
    )
    female = next(c for c in sex.categories if c.category == "Female")
    assert female.rri_status == "corrected"
    assert "Haldane–Anscombe" in female.sentence
    assert female.sentence.startswith("Female people were selected at 0.2")


def test_small_numbers_are_flagged() -> None:
    # 3 of 40 Mixed people selected: fewer than the default 5, so "too few to interpret".
    sel, elig = people([(400, 40, {}), (40, 3, {"ethnicity_self_defined": "M1"})])
    eth = disproportionality(selected=sel, eligible=elig, config=config()).dimension(
        "ethnicity_self_defined"
    )
    mixed = next(c for c in eth.categories if c.category == "Mixed")
    assert mixed.too_few
    assert mixed.sentence.startswith("Too few to interpret (fewer than 5): 3 of 40 eligible Mixed")
    assert mixed.rri == pytest.approx((3 / 40) / (40 / 400))  # still computed, but flagged
    # The threshold is configurable.
    eth2 = disproportionality(selected=sel, eligible=elig, config=config(min_count=3)).dimension(
        "ethnicity_self_defined"
    )
    assert not next(c for c in eth2.categories if c.category == "Mixed").too_few


def test_interval_including_one_is_explained() -> None:
    sel, elig = people([(100, 20, {}), (50, 11, {"sex": "F"})])
    sex = disproportionality(selected=sel, eligible=elig, config=config()).dimension("sex")
    female = next(c for c in sex.categories if c.category == "Female")
    # (11/50)/(20/100) = 1.1, an interval that plainly includes 1.
    assert female.rri == pytest.approx(1.1)
    assert "could be due to chance" in female.sentence


def test_detailed_ethnicity_and_chosen_reference() -> None:
    sel, elig = people(
        [
            (200, 20, {}),
            (100, 30, {"ethnicity_officer_defined": "IC3"}),
            (50, 10, {"ethnicity_officer_defined": "IC2"}),
        ]
    )
    cfg = config(broad_ethnicity=False, references={"ethnicity_officer_defined": "IC2"})
    eth = disproportionality(
        selected=sel, eligible=elig, config=cfg, dimensions=["ethnicity_officer_defined"]
    ).dimension("ethnicity_officer_defined")
    assert eth.reference == "IC2 White – South European"
    black = next(c for c in eth.categories if c.category == "IC3 Black")
    assert black.rri == pytest.approx((30 / 100) / (10 / 50))  # 1.5
    assert black.sentence.startswith("People recorded as “IC3 Black” were selected at 1.5 times")


def test_ages_and_bands() -> None:
    frame = pl.DataFrame(
        {
            "dob": [
                dt.date(2000, 6, 15),  # 24 on 2025-06-14, 25 on 2025-06-15
                dt.date(2004, 2, 29),  # 20 on 2025-02-28, 21 on 2025-03-01 (leap-day birthday)
            ]
        }
    )
    ages = lambda d: frame.select(age_expr("dob", d)).to_series().to_list()  # noqa: E731
    assert ages(dt.date(2025, 6, 14)) == [24, 21]
    assert ages(dt.date(2025, 6, 15)) == [25, 21]
    assert ages(dt.date(2025, 2, 28)) == [24, 20]
    assert ages(dt.date(2025, 3, 1)) == [24, 21]
    bands = AgeBands()
    assert bands.labels == ["Under 18", "18–20", "21–24", "25–29", "30–39", "40–49", "50+"]
    assert [bands.label_for(a) for a in (17, 18, 20, 21, 29, 30, 49, 50, 90)] == [
        "Under 18",
        "18–20",
        "18–20",
        "21–24",
        "25–29",
        "30–39",
        "40–49",
        "50+",
        "50+",
    ]
    assert AgeBands.parse("18,25,40").labels == ["Under 18", "18–24", "25–39", "40+"]
    with pytest.raises(ValueError):
        AgeBands((30, 20))


def test_age_reference_is_largest_band() -> None:
    sel, elig = people(
        [
            (30, 10, {"date_of_birth": dt.date(2005, 1, 1)}),  # 20: 18–20
            (80, 8, {"date_of_birth": dt.date(1990, 1, 1)}),  # 35: 30–39 (largest)
            (10, 0, {"date_of_birth": None}),  # not known
        ]
    )
    age = disproportionality(selected=sel, eligible=elig, config=config()).dimension("age_band")
    assert age.reference == "30–39"
    young = next(c for c in age.categories if c.category == "18–20")
    assert young.rri == pytest.approx((10 / 30) / (8 / 80))
    assert young.sentence.startswith("People aged 18–20 were selected at 3.3 times the rate")
    assert age.categories[-1].category == "Not known"
    assert age.categories[-1].eligible == 10


def test_bad_input_is_explained() -> None:
    sel, elig = people([(10, 2, {})])
    with pytest.raises(DisproportionalityError, match=r"missing column.*sex"):
        disproportionality(selected=sel, eligible=elig.drop("sex"), config=config())
    bad = elig.with_columns(pl.lit("IC7").alias("ethnicity_officer_defined"))
    with pytest.raises(DisproportionalityError, match=r"'IC7' \(row 1\)"):
        disproportionality(selected=sel, eligible=bad, config=config())
    stranger = sel.head(1).with_columns(pl.lit(999).alias("person_id"))
    with pytest.raises(DisproportionalityError, match="not in the eligible population"):
        disproportionality(selected=stranger, eligible=elig, config=config())
    with pytest.raises(DisproportionalityError, match="not a category"):
        disproportionality(selected=sel, eligible=elig, config=config(references={"sex": "Purple"}))
    future = elig.with_columns(pl.lit(dt.date(2030, 1, 1)).alias("date_of_birth"))
    with pytest.raises(DisproportionalityError, match="after the as-of date"):
        disproportionality(selected=sel, eligible=future, config=config())
    with pytest.raises(DisproportionalityError, match="empty"):
        disproportionality(selected=sel.head(0), eligible=elig.head(0), config=config())
    # Without ids, a category with more selected than eligible is still caught.
    with pytest.raises(DisproportionalityError, match="must be part of the eligible"):
        disproportionality(
            selected=sel.drop("person_id").with_columns(pl.lit("F").alias("sex")),
            eligible=elig.drop("person_id"),
            config=config(),
            dimensions=["sex"],
        )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["M", "F", "U"]),
            st.sampled_from(["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_reference_rri_is_one_and_ratios_invert(rows: list[tuple[str, str, bool]]) -> None:
    elig = pl.DataFrame(
        {
            "person_id": list(range(len(rows))),
            "sex": [r[0] for r in rows],
            "ethnicity_officer_defined": [r[1] for r in rows],
        }
    )
    sel = elig.filter(pl.Series([r[2] for r in rows]))
    report = disproportionality(
        selected=sel,
        eligible=elig,
        config=config(),
        dimensions=["sex", "ethnicity_officer_defined"],
    )
    for dim in report.dimensions:
        ref = next(c for c in dim.categories if c.is_reference)
        assert ref.rri == (1.0 if ref.eligible else None)
        assert sum(c.selected for c in dim.categories) == sel.height
        assert sum(c.eligible for c in dim.categories) == elig.height
        for c in dim.categories:
            if c.rri is not None and c.rri_ci_low is not None and c.rri_ci_high is not None:
                assert c.rri_ci_low <= c.rri <= c.rri_ci_high
                # The log-method CI is symmetric on the log scale.
                assert math.log(c.rri) - math.log(c.rri_ci_low) == pytest.approx(
                    math.log(c.rri_ci_high) - math.log(c.rri), abs=1e-9
                )
    # Swapping group and reference inverts the (uncorrected) ratio.
    a = relative_rate_index(7, 20, 5, 30)
    b = relative_rate_index(5, 30, 7, 20)
    assert a.estimate is not None and b.estimate is not None
    assert a.estimate * b.estimate == pytest.approx(1.0)
