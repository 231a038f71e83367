"""Readable renderings of a ScoreAudit: plain text for the terminal and a standalone HTML page.

The HTML report carries every figure as a table too (the plots are pictures of the tables),
escapes all text taken from the input file, and needs no scripts or external styles.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from openiom.scrutiny.score_audit import GroupRates, ScoreAudit
from openiom.scrutiny.stats import Proportion, fmt_pct


def _ci(p: Proportion) -> str:
    if p.estimate is None:
        return "not defined"
    return f"{fmt_pct(p.estimate)} ({fmt_pct(p.ci_low)}–{fmt_pct(p.ci_high)})"


RATE_HEADERS = ["Group", "n", "TP", "FP", "TN", "FN", "Flagged", "FPR", "FNR", "PPV", "Base rate"]


def _rate_row(g: GroupRates) -> list[str]:
    name = g.group + (" *" if g.too_few else "")
    return [
        name,
        str(g.n),
        str(g.tp),
        str(g.fp),
        str(g.tn),
        str(g.fn),
        _ci(g.flagged_rate),
        _ci(g.fpr),
        _ci(g.fnr),
        _ci(g.ppv),
        _ci(g.base_rate),
    ]


def _calibration_rows(audit: ScoreAudit) -> tuple[list[str], list[list[str]]]:
    cal = audit.calibration
    headers = ["Bin", "Scores", "n", "Events", "Observed (95% CI)"]
    if cal.is_probability:
        headers += ["Mean predicted", "Expected events"]
    rows = []
    for b in cal.bins:
        row = [
            str(b.index),
            f"{b.score_min:.4g} to {b.score_max:.4g}",
            str(b.observed.total),
            str(b.observed.successes),
            _ci(b.observed),
        ]
        if cal.is_probability:
            row += [fmt_pct(b.mean_score), f"{b.expected_events:.1f}"]
        rows.append(row)
    return headers, rows


def _coef_rows(audit: ScoreAudit) -> tuple[list[str], list[list[str]]]:
    headers = ["Term", "Coefficient", "SE", "z", "p", "Odds ratio (95% CI)"]
    rows = []
    if audit.benchmark:
        for c in audit.benchmark.coefficients:
            rows.append(
                [
                    c.term,
                    f"{c.coef:.4f}",
                    f"{c.se:.4f}",
                    f"{c.z:.2f}",
                    f"{c.p_value:.3g}",
                    f"{c.odds_ratio:.3g} ({c.or_ci_low:.3g}–{c.or_ci_high:.3g})",
                ]
            )
    return headers, rows


def _text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def render_text(audit: ScoreAudit) -> str:
    o = audit.options
    out = [
        f"Score audit of '{o.score}' against '{o.outcome}' in {audit.source.name}",
        "",
        "Summary",
        *(f"  - {line}" for line in audit.summary),
        "",
        "Calibration" + ("" if audit.calibration.is_probability else " (observed rate only)"),
        _text_table(*_calibration_rows(audit)),
    ]
    cal = audit.calibration
    if cal.citl is not None:
        out.append(
            f"Calibration-in-the-large (ideal 0): {cal.citl.estimate:.3f} "
            f"(95% CI {cal.citl.ci_low:.3f} to {cal.citl.ci_high:.3f})"
        )
    out += [f"  note: {n}" for n in cal.notes]
    thr = audit.threshold
    out += ["", f"Error rates at threshold {thr.threshold:g} (flagged when score ≥ threshold)"]
    rows = [_rate_row(thr.overall)] + [_rate_row(g) for g in thr.groups]
    out.append(_text_table(RATE_HEADERS, rows))
    out.append(f"  * fewer than {o.min_group_size} people: too few to interpret.")
    for g in [thr.overall, *thr.groups]:
        out += [f"  {g.group}: {n}" for n in g.notes if not n.startswith("Too few")]
    if audit.benchmark:
        b = audit.benchmark
        out += ["", f"Transparent benchmark: logistic regression on {', '.join(b.predictors)}"]
        out.append(_text_table(*_coef_rows(audit)))
        if b.terms_note:
            out.append(f"  {b.terms_note}")
        out += [f"  note: {n}" for n in b.notes]
    if audit.benchmark_error:
        out += ["", f"Benchmark not fitted: {audit.benchmark_error}"]
    out += ["", "Caveats", *(f"  - {c}" for c in audit.caveats)]
    return "\n".join(out) + "\n"


def _html_table(headers: list[str], rows: list[list[str]], caption: str) -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


STYLE = """
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;max-width:960px;margin:2em auto;
padding:0 1em;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border-bottom:1px solid #b1b4b6;padding:4px 8px;text-align:left}
caption{text-align:left;font-weight:bold;padding:4px 0}
img{max-width:100%}
.note{color:#505a5f}
"""


def render_html(
    audit: ScoreAudit,
    *,
    calibration_svg: str = "calibration.svg",
    roc_svg: str = "roc.svg",
) -> str:
    e = html.escape
    o = audit.options
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Score audit: {e(o.score)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Score audit of “{e(o.score)}” against “{e(o.outcome)}”</h1>",
        f"<p>File {e(audit.source.name)} ({e(audit.source.format)}, {audit.n} rows"
        + (f", SHA-256 {e(audit.source.sha256)}" if audit.source.sha256 else "")
        + ").</p>",
        "<h2>Summary</h2><ul>",
        *(f"<li>{e(s)}</li>" for s in audit.summary),
        "</ul>",
        "<h2>Discrimination</h2>",
        f'<img src="{e(roc_svg)}" alt="ROC curve of {e(o.score)}; the AUC is '
        f'{audit.discrimination.auc.estimate:.3f}. The points are listed in the JSON file.">',
        "<h2>Calibration</h2>",
        f"<p>{e(audit.calibration.probability_reason.capitalize())}</p>",
        f'<img src="{e(calibration_svg)}" alt="Calibration plot; the same figures are in the '
        'table below.">',
        _html_table(*_calibration_rows(audit), "Observed outcome by bin of score"),
        *(f'<p class="note">{e(n)}</p>' for n in audit.calibration.notes),
    ]
    cal = audit.calibration
    if cal.citl is not None and cal.slope is not None:
        parts.append(
            f"<p>Calibration-in-the-large {cal.citl.estimate:.3f} (95% CI {cal.citl.ci_low:.3f} "
            f"to {cal.citl.ci_high:.3f}; ideal 0). Calibration slope {cal.slope.estimate:.3f} "
            f"(95% CI {cal.slope.ci_low:.3f} to {cal.slope.ci_high:.3f}; ideal 1).</p>"
        )
    thr = audit.threshold
    rows = [_rate_row(thr.overall)] + [_rate_row(g) for g in thr.groups]
    parts += [
        f"<h2>Error rates at threshold {thr.threshold:g}</h2>",
        "<p>Flagged means score ≥ threshold. Percentages with 95% Wilson intervals. "
        f"* fewer than {o.min_group_size} people: too few to interpret.</p>",
        _html_table(RATE_HEADERS, rows, f"By {thr.group_column or 'all rows'}"),
    ]
    for g in [thr.overall, *thr.groups]:
        parts += [
            f'<p class="note">{e(g.group)}: {e(n)}</p>'
            for n in g.notes
            if not n.startswith("Too few")
        ]
    if audit.benchmark:
        b = audit.benchmark
        parts += [
            "<h2>Transparent benchmark</h2>",
            _html_table(*_coef_rows(audit), "Logistic regression coefficients"),
        ]
        if b.terms_note:
            parts.append(f"<p>{e(b.terms_note)}</p>")
        parts += [f'<p class="note">{e(n)}</p>' for n in b.notes]
    if audit.benchmark_error:
        parts.append(f"<p>Benchmark not fitted: {e(audit.benchmark_error)}</p>")
    parts += ["<h2>Caveats</h2><ul>", *(f"<li>{e(c)}</li>" for c in audit.caveats), "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_outputs(audit: ScoreAudit, out_dir: Path) -> dict[str, Path]:
    """audit.json, calibration.svg, roc.svg and report.html in out_dir (created if needed)."""
    from openiom.scrutiny.plots import calibration_svg, roc_svg

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {
        "audit.json": json.dumps(audit.to_dict(), indent=2, ensure_ascii=False, allow_nan=False),
        "calibration.svg": calibration_svg(audit),
        "roc.svg": roc_svg(audit),
        "report.html": render_html(audit),
    }
    written = {}
    for name, text in files.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written[name] = path
    return written
