"""summary.html: the class at a glance, self-contained, with every student string escaped."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import nbfactory as f

from autograder import report
from autograder.grade import QuestionResult, SubmissionResult, load_lab, whole_failure

HOSTILE = '<script>alert("x")</script><img src="http://evil.example/x.png">'


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "srcset", "poster"):
                self.links.append((tag, name, value or ""))


def _result(spec, name, scores, *, seconds=1.0, needs_review=()):
    questions = [
        QuestionResult(
            q.id, q.title, float(q.points), s, "passed" if s == q.points else "failed", ""
        )
        for q, s in zip(spec.questions, scores)
    ]
    return SubmissionResult(
        name,
        spec.lab,
        float(sum(scores)),
        spec.max_score,
        questions,
        "strong (test)",
        "key",
        seconds=seconds,
        needs_review=list(needs_review),
    )


def _class(spec):
    return [
        _result(spec, "alice", [1, 2, 2], seconds=3.5),
        _result(spec, "bob", [1, 0, 2], seconds=41.25),
        _result(spec, HOSTILE, [0, 2, 0], needs_review=[f"code cell 3 calls eval ({HOSTILE})"]),
        _result(spec, "dave", [1, 2, 2], needs_review=["code cell 2 uses getattr with a name"]),
        whole_failure(spec, "eve", "", "invalid", f"{HOSTILE}.ipynb is not a valid zip"),
    ]


def test_summary_html_is_written_self_contained_with_plots_flags_and_slowest(tmp_path):
    spec = load_lab(f.LAB, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    results = _class(spec)
    data = report.write_batch(results, spec.questions, tmp_path)
    page = (tmp_path / "summary.html").read_text()
    assert data == json.loads((tmp_path / "summary.json").read_text())
    assert data["statuses"] == {"graded": 2, "invalid": 1, "needs_review": 2}

    parser = _Attributes()
    parser.feed(page)
    assert not {"script", "link", "iframe", "object", "embed"} & set(parser.tags)
    images = [value for tag, name, value in parser.links if tag == "img"]
    assert parser.links == [("img", "src", value) for value in images] and len(images) == 2
    for value in images:  # embedded PNGs, nothing fetched from elsewhere
        prefix = "data:image/png;base64,"
        assert value.startswith(prefix)
        assert base64.b64decode(value[len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "url(" not in page and "@import" not in page

    assert "<h1>Lab 99_fixture: class summary</h1>" in page
    assert "<p>5 submissions; mean total 3.00 / 5." in page
    assert '<h2 class="flag">Needs review (2)</h2>' in page
    assert (
        '<td>dave</td><td class="num">5</td><td>code cell 2 uses getattr with a name</td>' in page
    )
    assert "<h2>Not graded (1)</h2>" in page
    assert "<td>eve</td><td>invalid</td>" in page
    slowest = page[page.index("Slowest submissions") :]
    assert slowest.index("<td>bob</td>") < slowest.index("<td>alice</td>")
    assert '<td>bob</td><td class="num">41.2</td>' in slowest
    for q in ("out_shape", "conv_size", "relu"):
        assert f"<td>{q}</td>" in page


def test_summary_html_escapes_every_student_string(tmp_path):
    spec = load_lab(f.LAB, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    report.write_batch(_class(spec), spec.questions, tmp_path)
    page = (tmp_path / "summary.html").read_text()
    assert HOSTILE not in page
    assert "<script" not in page and 'evil.example/x.png"' not in page
    escaped = (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        "&lt;img src=&quot;http://evil.example/x.png&quot;&gt;"
    )
    assert f"<td>{escaped}</td>" in page  # the name, in the flags and slowest tables
    assert f"code cell 3 calls eval ({escaped})" in page
    assert f"<td>{escaped}.ipynb is not a valid zip</td>" in page


def test_an_empty_class_gets_a_page_too(tmp_path):
    spec = load_lab(f.LAB, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    report.write_batch([], spec.questions, tmp_path)
    page = (tmp_path / "summary.html").read_text()
    assert "<p>Nothing graded yet.</p>" in page and "<img" not in page
