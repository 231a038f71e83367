"""The offending timeline is inline SVG that obeys the CSP and is labelled as one image."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from openiom.people.charts import offending_timeline


def offence(day: dt.date, category: str) -> SimpleNamespace:
    return SimpleNamespace(offence_date=day, offence_code=SimpleNamespace(category=category))


def test_no_offences_no_chart() -> None:
    assert offending_timeline(offences=[]) is None


def test_chart_is_plain_csp_safe_svg_even_if_a_library_registered_an_svg_prefix() -> None:
    ET.register_namespace("svg", "http://www.w3.org/2000/svg")
    chart = offending_timeline(
        offences=[
            offence(dt.date(2019, 1, 5), "Robbery"),
            offence(dt.date(2021, 7, 1), "Robbery"),
            offence(dt.date(2020, 2, 2), "<script>alert(1)</script> & Co"),
        ],
        custody_episodes=[
            SimpleNamespace(received_date=dt.date(2019, 3, 1), release_date=None),
        ],
        today=dt.date(2022, 1, 1),
    )
    assert chart is not None
    svg = chart.svg
    assert svg.startswith("<svg ")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "svg:" not in svg and "ns0:" not in svg and "xlink" not in svg
    assert "style=" not in svg and "<style" not in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg
    assert chart.description.startswith("3 proven offences from 2019 to 2021")
    assert "1 period in custody" in chart.description
    assert (chart.rows[0].category, chart.rows[0].count) == ("Robbery", 2)
    assert chart.rows[0].first == dt.date(2019, 1, 5)
    assert chart.rows[0].latest == dt.date(2021, 7, 1)
    # Every internal reference points at an id that exists (ids are prefixed, so unique).
    ids = {el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")}
    for el in ET.fromstring(svg).iter():
        href = el.get("href")
        if href:
            assert href[1:] in ids
        clip = el.get("clip-path")
        if clip:
            assert clip[5:-1] in ids
    assert all(i.startswith("offending-chart-") for i in ids)
