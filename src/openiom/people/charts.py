"""Server-side charts for the person page, as inline SVG that obeys the content security policy.

Matplotlib writes styles as `style` attributes and a `<style>` element, which a policy of
`style-src 'self'` blocks in an inline SVG; we rewrite them as SVG presentation attributes.
The SVG is labelled as one image (role="img" with a title and description); the same data is
given as a table next to it.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.figure import Figure

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

# GOV.UK palette colours (each at least 3:1 against white) and distinct marker shapes, so that
# categories differ by shape as well as colour.
COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#f47738", "#912b88", "#28a197", "#0b0c0c"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]
CUSTODY_COLOUR = "#b1b4b6"
TEXT_COLOUR = "#0b0c0c"
FONTS = ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans", "sans-serif"]


@dataclass(frozen=True)
class CategoryRow:
    category: str
    count: int
    first: dt.date
    latest: dt.date


@dataclass(frozen=True)
class Chart:
    svg: str
    title: str
    description: str
    rows: list[CategoryRow]
    custody_periods: int


def _category(offence: Any) -> str:
    code = getattr(offence, "offence_code", None)
    return (getattr(code, "category", "") or "Other").strip() or "Other"


def _style_to_attributes(element: ET.Element) -> None:
    style = element.attrib.pop("style", None)
    if not style:
        return
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        if sep and name.strip() and value.strip():
            element.set(name.strip(), value.strip())


def csp_safe_svg(svg_text: str, *, id_prefix: str, title: str, description: str) -> str:
    """Matplotlib SVG → inline SVG with no style attributes/elements, unique ids and a label."""
    root = ET.fromstring(svg_text)  # noqa: S314  (our own output, not user input)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in {f"{{{SVG_NS}}}metadata", f"{{{SVG_NS}}}style"}:
                parent.remove(child)
    ids = {el.get("id"): f"{id_prefix}-{el.get('id')}" for el in root.iter() if el.get("id")}
    href = f"{{{XLINK_NS}}}href"
    for el in root.iter():
        _style_to_attributes(el)
        if el.get("id") in ids:
            el.set("id", ids[el.get("id")])
        ref = el.attrib.pop(href, None)
        if ref:
            # Plain SVG 2 href: no xlink prefix to depend on when serialising.
            el.set("href", f"#{ids[ref[1:]]}" if ref.startswith("#") and ref[1:] in ids else ref)
        clip = el.get("clip-path")
        if clip and clip.startswith("url(#") and clip[5:-1] in ids:
            el.set("clip-path", f"url(#{ids[clip[5:-1]]})")
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    # What matplotlib's <style> said, as inherited presentation attributes.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    root.set("role", "img")
    root.set("focusable", "false")
    root.set("class", "app-chart__svg")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    title_el = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{id_prefix}-title"})
    title_el.text = title
    desc_el = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{id_prefix}-desc"})
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)
    # Plain tag names rather than ET's namespace prefixes: the prefix registry is process-wide
    # (other libraries register "svg"), and HTML parsers do not understand <svg:svg>.
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{SVG_NS}}}"):
            el.tag = el.tag[len(SVG_NS) + 2 :]
    root.set("xmlns", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def _describe(rows: Sequence[CategoryRow], total: int, custody_periods: int) -> str:
    first = min(r.first for r in rows)
    latest = max(r.latest for r in rows)
    span = (
        f"in {first.year}" if first.year == latest.year else f"from {first.year} to {latest.year}"
    )
    parts = ", ".join(f"{r.category}: {r.count}" for r in rows)
    text = (
        f"{total} proven offence{'s' if total != 1 else ''} {span}, "
        f"plotted by date in {len(rows)} categor{'ies' if len(rows) != 1 else 'y'} ({parts})."
    )
    if custody_periods:
        text += (
            f" {custody_periods} period{'s' if custody_periods != 1 else ''} in custody "
            "shaded grey."
        )
    return text


def offending_timeline(
    *,
    offences: Iterable[Any],
    custody_episodes: Iterable[Any] = (),
    today: dt.date | None = None,
    id_prefix: str = "offending-chart",
) -> Chart | None:
    """Offences over time by category, with custody periods shaded; None if no offences."""
    points = [(o.offence_date, _category(o)) for o in offences if o.offence_date]
    if not points:
        return None
    today = today or dt.date.today()
    counts = Counter(category for _, category in points)
    # Most frequent category at the top.
    categories = sorted(counts, key=lambda c: (-counts[c], c))
    rows = [
        CategoryRow(
            category=c,
            count=counts[c],
            first=min(d for d, cat in points if cat == c),
            latest=max(d for d, cat in points if cat == c),
        )
        for c in categories
    ]
    periods = [
        (e.received_date, e.release_date or today)
        for e in custody_episodes
        if getattr(e, "received_date", None)
    ]
    title = "Offending timeline"
    description = _describe(rows, len(points), len(periods))

    rc: dict[str, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": id_prefix,
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 11,
        "text.color": TEXT_COLOUR,
        "axes.labelcolor": TEXT_COLOUR,
        "xtick.color": TEXT_COLOUR,
        "ytick.color": TEXT_COLOUR,
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(9, 1.6 + 0.45 * len(categories)), layout="constrained")
        ax = fig.add_subplot()
        start = min([d for d, _ in points] + [p[0] for p in periods])
        end = max([d for d, _ in points] + [p[1] for p in periods])
        margin = dt.timedelta(days=max(60, (end - start).days // 25))
        for i, (begin, finish) in enumerate(periods):
            ax.axvspan(
                mdates.date2num(begin),
                mdates.date2num(max(finish, begin + dt.timedelta(days=1))),
                color=CUSTODY_COLOUR,
                alpha=0.6,
                linewidth=0,
                label="In custody" if i == 0 else None,
            )
        for y, category in enumerate(categories):
            dates = [d for d, c in points if c == category]
            ax.scatter(
                [mdates.date2num(d) for d in dates],
                [y] * len(dates),
                marker=MARKERS[y % len(MARKERS)],
                s=60,
                color=COLOURS[y % len(COLOURS)],
                edgecolors=TEXT_COLOUR,
                linewidths=0.6,
                zorder=3,
            )
        ax.set_yticks(range(len(categories)), labels=categories)
        ax.set_ylim(len(categories) - 0.5, -0.5)
        ax.set_xlim(mdates.date2num(start - margin), mdates.date2num(end + margin))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.grid(axis="x", color="#cecece", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_xlabel("Date of offence")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if periods:
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, ncols=1)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = csp_safe_svg(buffer.getvalue(), id_prefix=id_prefix, title=title, description=description)
    return Chart(
        svg=svg, title=title, description=description, rows=rows, custody_periods=len(periods)
    )
