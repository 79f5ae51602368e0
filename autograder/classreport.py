"""``summary.html``: a class's grading at a glance, in one self-contained file.

Written beside ``summary.json`` by every ``cnnlabs grade`` run (``report.write_batch``):
the score distribution and per-question pass rates (matplotlib, drawn with the Agg
canvas and embedded as base64 PNG), the statuses, the submissions flagged
``needs_review`` with their reasons, those that could not be graded, and the slowest
submissions. Nothing is loaded from elsewhere (no external ``src`` or ``href``), so the
file can be mailed or opened offline. Every string that comes from a submission (its
name, reasons quoting its code or file names) is HTML-escaped: a student named
``<script>`` is text.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

SLOWEST = 10  # rows of the slowest-submissions table

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { color: #a40; } img { max-width: 100%; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_e(fig.axes[0].get_title())}" src="data:image/png;base64,{data}">'


def _distribution_plot(totals: list[float], max_score: float, lab: str) -> str:
    from matplotlib.figure import Figure  # the Agg canvas, no pyplot state: thread-safe
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.5, 3.0))
    ax = fig.subplots()
    top = max([max_score, *totals, 1.0])
    ax.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, top), color="#4c72b0")
    ax.set_title(f"Lab {lab}: total scores ({len(totals)} submissions)")
    ax.set_xlabel(f"total score (points, out of {max_score:g})")
    ax.set_ylabel("submissions (count)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(fig)


def _pass_rate_plot(data: dict, lab: str) -> str:
    from matplotlib.figure import Figure

    ids = list(data["questions"])
    rates = [100 * data["questions"][q]["pass_rate"] for q in ids]
    fig = Figure(figsize=(6.5, 0.5 + 0.35 * max(1, len(ids))))
    ax = fig.subplots()
    ax.barh(range(len(ids)), rates, color="#55a868")
    ax.set_yticks(range(len(ids)), ids)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_title(f"Lab {lab}: pass rate per question")
    ax.set_xlabel("submissions with every test passed (%)")
    return _png(fig)


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def summary_html(results, questions, data: dict) -> str:
    """The page for ``results`` (SubmissionResults), ``questions`` and their ``summary`` dict."""
    lab = results[0].lab if results else ""
    title = f"Lab {lab}: class summary" if lab else "Class summary"
    total = data["total"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(results)} submissions; mean total {total['mean']:.2f} / "
        f"{total['max_score']:g}. Written "
        f"{_e(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} by "
        "<code>cnnlabs grade</code> from every result in this folder.</p>",
    ]
    if not results:
        parts.append("<p>Nothing graded yet.</p></body></html>")
        return "\n".join(parts)
    parts += [
        "<h2>Statuses</h2>",
        _table(
            ["status", "submissions"],
            [[s, n] for s, n in data["statuses"].items()],
            numeric={1},
        ),
        "<h2>Score distribution</h2>",
        _distribution_plot([r.score for r in results], total["max_score"], lab),
        "<h2>Questions</h2>",
        _pass_rate_plot(data, lab),
        _table(
            ["question", "title", "mean", "points", "pass rate", "statuses"],
            [
                [
                    q.id,
                    q.title,
                    f"{data['questions'][q.id]['mean']:.2f}",
                    f"{data['questions'][q.id]['max_score']:g}",
                    f"{data['questions'][q.id]['pass_rate']:.0%}",
                    ", ".join(f"{k} {v}" for k, v in data["questions"][q.id]["statuses"].items()),
                ]
                for q in questions
            ],
            numeric={2, 3, 4},
        ),
    ]
    flagged = [r for r in results if r.needs_review]
    parts.append(f'<h2 class="flag">Needs review ({len(flagged)})</h2>')
    if flagged:
        parts.append(
            "<p>These keep their score, but their code reaches functions the analysis "
            "cannot follow: read them before publishing grades.</p>"
        )
        parts.append(
            _table(
                ["submission", "score", "reasons"],
                [[r.submission, f"{r.score:g}", "; ".join(r.needs_review)] for r in flagged],
                numeric={1},
            )
        )
    else:
        parts.append("<p>None.</p>")
    failed = [r for r in results if r.error]
    if failed:
        parts.append(f"<h2>Not graded ({len(failed)})</h2>")
        parts.append(
            _table(
                ["submission", "status", "reason"],
                [[r.submission, r.status, r.error] for r in failed],
            )
        )
    slow = sorted(results, key=lambda r: r.seconds, reverse=True)[:SLOWEST]
    parts += [
        f"<h2>Slowest submissions (top {len(slow)})</h2>",
        _table(
            ["submission", "seconds", "score", "status"],
            [[r.submission, f"{r.seconds:.1f}", f"{r.score:g}", r.status] for r in slow],
            numeric={1, 2},
        ),
        "</body></html>",
    ]
    return "\n".join(parts)
