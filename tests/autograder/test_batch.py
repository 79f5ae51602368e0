"""One bad zip or file costs its own student(s) only; names are unique, safe and stable."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import nbfactory as f
import nbformat
import pytest

import autograder.batch
from autograder.batch import BatchInputError, collect, grade_batch

GOOD = nbformat.writes(f.notebook(f.SOLUTION)).encode()


def _zip(members: dict[str, bytes], method=zipfile.ZIP_STORED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return bytearray(buffer.getvalue())


def _patch(data: bytearray, member: str, **fields) -> bytearray:
    """Rewrites header fields of one member in both its local and its central header.

    fields: flag, method, crc, usize (uncompressed size); data: ``data_byte`` flips
    the first byte of the member's stored data.
    """
    local = {"flag": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"), "usize": (22, "<I")}
    central = {"flag": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"), "usize": (24, "<I")}
    name = member.encode()
    found = 0
    pos = data.find(b"PK\x03\x04")
    while pos >= 0:
        nlen, elen = struct.unpack_from("<HH", data, pos + 26)
        if data[pos + 30 : pos + 30 + nlen] == name:
            for key, value in fields.items():
                if key == "data_byte":
                    data[pos + 30 + nlen + elen] ^= 0xFF
                else:
                    struct.pack_into(local[key][1], data, pos + local[key][0], value)
            found += 1
        pos = data.find(b"PK\x03\x04", pos + 4)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (nlen,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46 : pos + 46 + nlen] == name:
            for key, value in fields.items():
                if key != "data_byte":
                    struct.pack_into(central[key][1], data, pos + central[key][0], value)
            found += 1
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert found == 2, f"{member}: {found} headers"
    return data


def _rows(subs):
    return [(s.name, s.path is not None, s.problem) for s in subs]


def test_a_bad_member_costs_its_own_row_only(tmp_path):
    members = {
        "alice.ipynb": GOOD,
        "encrypted.ipynb": GOOD,
        "badcrc.ipynb": GOOD,
        "method.ipynb": GOOD,
        "lying.ipynb": GOOD,
        "zed.ipynb": GOOD,
    }
    data = _zip(members)
    data = _patch(data, "encrypted.ipynb", flag=0x1)
    data = _patch(data, "badcrc.ipynb", data_byte=True)
    data = _patch(data, "method.ipynb", method=99)
    data = _patch(data, "lying.ipynb", usize=100)
    (tmp_path / "lms.zip").write_bytes(bytes(data))
    subs = collect([tmp_path / "lms.zip"], tmp_path / "work")
    assert _rows(subs) == [
        ("lms_alice", True, ""),
        (
            "lms_encrypted",
            False,
            "encrypted.ipynb is encrypted (password-protected); submit it without a password.",
        ),
        (
            "lms_badcrc",
            False,
            "badcrc.ipynb is damaged in the zip (Bad CRC-32 for file 'badcrc.ipynb'); zip it again.",
        ),
        (
            "lms_method",
            False,
            "method.ipynb uses compression method 99 (unknown), which cannot be read; "
            "zip it again with the standard (deflate) method.",
        ),
        (
            "lms_lying",
            False,
            "lying.ipynb is damaged in the zip (Bad CRC-32 for file 'lying.ipynb'); zip it again.",
        ),
        ("lms_zed", True, ""),
    ]
    assert subs[0].path.read_bytes() == GOOD and subs[-1].path.read_bytes() == GOOD


def test_size_fields_are_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(autograder.batch, "MAX_MEMBER_BYTES", len(GOOD) + 100)
    members = {"short.ipynb": GOOD, "huge.ipynb": GOOD, "ok.ipynb": GOOD}
    data = _zip(members, zipfile.ZIP_DEFLATED)
    data = _patch(data, "short.ipynb", usize=len(GOOD) + 50)  # claims more: the CRC decides
    data = _patch(data, "huge.ipynb", usize=10**6)  # claims too much: refused unread
    (tmp_path / "s.zip").write_bytes(bytes(data))
    short, huge, ok = collect([tmp_path / "s.zip"], tmp_path / "work")
    assert short.path.read_bytes() == GOOD and ok.path.read_bytes() == GOOD
    assert (huge.name, huge.path, huge.problem) == (
        "s_huge",
        None,
        f"huge.ipynb is larger than {len(GOOD) + 100} bytes.",
    )


def test_an_unusable_zip_is_one_invalid_row(tmp_path, monkeypatch):
    monkeypatch.setattr(autograder.batch, "MAX_MEMBERS", 3)
    (tmp_path / "many.zip").write_bytes(bytes(_zip({f"s{i}.ipynb": GOOD for i in range(4)})))
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    monkeypatch.setattr(autograder.batch, "MAX_ZIP_BYTES", 3 * len(GOOD))
    (tmp_path / "bomb.zip").write_bytes(
        bytes(_zip({"b0.ipynb": GOOD, "b1.ipynb": GOOD, "x.ipynb": GOOD + b" " * 100}))
    )
    subs = collect(
        [tmp_path / "many.zip", tmp_path / "junk.zip", tmp_path / "bomb.zip"], tmp_path / "w"
    )
    assert _rows(subs) == [
        ("many", False, "many.zip has 4 files, more than 3."),
        ("junk", False, "junk.zip is not a valid zip: File is not a zip file"),
        (
            "bomb",
            False,
            f"bomb.zip expands to more than {3 * len(GOOD)} bytes; refused (zip bomb?).",
        ),
    ]


def test_only_missing_arguments_stop_the_batch(tmp_path):
    with pytest.raises(BatchInputError) as info:
        collect([tmp_path / "nope.zip"], tmp_path / "w")
    assert str(info.value) == f"{tmp_path / 'nope.zip'}: no such file or folder."


def test_safe_names_are_kept_and_made_up_names_never_collide(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for stem in ("bob!", "bob", "carol", "carol!", "carol?", "carol-2", "dave!", "x y"):
        (subs / f"{stem}.ipynb").write_bytes(GOOD)
    first = collect([subs], tmp_path / "w")
    names = {s.path.stem: s.name for s in first}
    assert names["bob"] == "bob" and names["carol"] == "carol" and names["carol-2"] == "carol-2"
    assert names["dave!"] == "dave" and names["x y"] == "x_y"
    for made_up, base in (("bob!", "bob"), ("carol!", "carol"), ("carol?", "carol")):
        assert names[made_up].startswith(base + "-") and len(names[made_up]) == len(base) + 7
    assert len(set(names.values())) == len(names)
    again = collect([subs], tmp_path / "w2")
    assert [s.name for s in again] == [s.name for s in first]  # stable across runs
    (subs / "bob_.ipynb").write_bytes(GOOD)  # a new submission leaves the others' names alone
    later = {s.path.stem: s.name for s in collect([subs], tmp_path / "w3")}
    assert {k: later[k] for k in names} == names


def test_a_bad_zip_beside_honest_students_still_writes_grades_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    f.write(subs / "alice.ipynb", f.SOLUTION)
    data = _patch(_zip({"bob.ipynb": GOOD, "eve.ipynb": GOOD}), "eve.ipynb", data_byte=True)
    (subs / "class.zip").write_bytes(bytes(data))
    (subs / "broken.zip").write_bytes(b"not a zip at all")
    batch = grade_batch(
        f.LAB,
        [subs],
        tmp_path / "out",
        hidden_dir=f.HIDDEN,
        questions_path=f.QUESTIONS,
        progress=False,
        seed=7,
    )
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert rows == [
        "submission,out_shape,conv_size,relu,total,max_score,status",
        "alice,1,2,2,5,5,graded",
        "broken,0,0,0,0,5,invalid",
        "class_bob,1,2,2,5,5,graded",
        "class_eve,0,0,0,0,5,invalid",
    ]
    eve = json.loads((tmp_path / "out" / "submissions" / "class_eve" / "grade.json").read_text())
    assert (
        eve["error"]
        == "eve.ipynb is damaged in the zip (Bad CRC-32 for file 'eve.ipynb'); zip it again."
    )
    assert {r.hidden_seed for r in batch.results} == {7}


def test_a_row_says_why_nothing_was_graded():
    from autograder import report
    from autograder.grade import load_lab, whole_failure

    spec = load_lab(f.LAB, hidden_dir=f.HIDDEN, questions_path=f.QUESTIONS)
    rows = report.grades_csv(
        [
            whole_failure(spec, "ann", "", "invalid", "not a notebook"),
            whole_failure(spec, "ben", "", "grader_error", "internal grader error: KeyError"),
        ],
        [q.id for q in spec.questions],
    ).splitlines()
    assert rows[1:] == ["ann,0,0,0,0,5,invalid", "ben,0,0,0,0,5,grader_error"]
