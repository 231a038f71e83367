"""The tornado chart: accessible, CSP-safe SVG with the bars in swing order."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from openiom.vfm.charts import tornado_svg
from tests.vfm.test_calculations import hand_appraisal
from tests.web.helpers import STYLE_ATTRIBUTE, STYLE_ELEMENT

NS = "{http://www.w3.org/2000/svg}"


def test_tornado_svg_is_labelled_and_csp_safe() -> None:
    ap = hand_appraisal()
    svg = tornado_svg(ap)
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "vfm-tornado-title vfm-tornado-desc"
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and "net present value" in (title.text or "")
    assert desc is not None
    for row in ap.tornado:
        assert row.label in (desc.text or "")
    assert not STYLE_ATTRIBUTE.search(svg) and not STYLE_ELEMENT.search(svg)


def test_tornado_bars_follow_the_swing_order() -> None:
    ap = hand_appraisal()
    svg = tornado_svg(ap.to_dict())  # the dict form works too (as stored in a report)
    # The axis labels are drawn top to bottom; find where each first appears in the text.
    texts = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.strip()]
    positions = []
    for row in ap.tornado:
        first_line = row.label
        index = next(i for i, t in enumerate(texts) if t.startswith(first_line))
        positions.append(index)
    assert positions == sorted(positions)
    # Same input, same bytes (fixed hash salt, no date).
    assert tornado_svg(ap) == tornado_svg(ap)


def test_tornado_with_no_rows_says_so() -> None:
    svg = tornado_svg({"tornado": [], "npv": 0.0, "currency": "GBP"})
    assert "nothing to compare" in svg
