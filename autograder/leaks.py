"""Solution code that the student can read: normalised comparison, names aside.

A solution block leaks when its code, with whitespace, comments and the names of
variables ignored, appears in what the student gets: the student notebook (an
`or_reference` fallback written in a later cell, say) or the fallback module its
`or_reference` calls use (`cnnlabs/checks/fallbacks.py`). Renaming `x` to
`inputs` or re-indenting does not hide a copy.

Code is compared as token sequences (as MOSS does): identifiers become `N`
except keywords, builtins, attribute names and keyword-argument names; strings
become `S`; numbers and operators stay. A token of a block is *covered* when a
run of `MIN_TOKENS` normalised tokens through it occurs in student-visible code;
a block leaks when at least `LEAK_COVERAGE` of its tokens are covered, i.e. the
student can read (nearly) the whole answer. One shared library phrase
(`layers.Conv2D(filters, 3, padding="same")(x)`) covers a line, not a block;
blocks shorter than `MIN_TOKENS` tokens are left to the exact-line test.
"""

from __future__ import annotations

import builtins
import io
import keyword
import re
import textwrap
import tokenize
from dataclasses import dataclass

MIN_TOKENS = 12
LEAK_COVERAGE = 0.9

_BUILTINS = frozenset(dir(builtins))
_SKIP = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_FALLBACK_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|'[^']*'|\"[^\"]*\"|\S")


@dataclass(frozen=True)
class Token:
    text: str  # normalised
    line: int  # line number in the unit's own numbering


@dataclass(frozen=True)
class Leak:
    """A solution block that student-visible code (nearly) contains."""

    block_line: int  # the block's first line in the source
    coverage: float  # the fraction of the block's tokens found
    found_in: str  # e.g. "labs/source/01_lenet5.py" or "cnnlabs/checks/fallbacks.py"
    found_line: int  # where the first shared run starts there


def _raw_tokens(text: str) -> list[tuple[int, str, int]]:
    """(type, string, line) of each token; a crude split where tokenize gives up."""
    try:
        return [
            (tok.type, tok.string, tok.start[0])
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            for piece in _FALLBACK_TOKEN.findall(code):
                kind = tokenize.NAME if re.match(r"[A-Za-z_]", piece) else tokenize.OP
                if piece[0] in "'\"":
                    kind = tokenize.STRING
                found.append((kind, piece, number))
        return found


def normalise(text: str, first_line: int = 1) -> list[Token]:
    """The normalised tokens of `text`, each with its line (`first_line` = line 1)."""
    raw = [t for t in _raw_tokens(text) if t[0] not in _SKIP]
    tokens, depth = [], 0
    for index, (kind, string, line) in enumerate(raw):
        if kind == tokenize.OP and string in "([{":
            depth += 1
        elif kind == tokenize.OP and string in ")]}":
            depth = max(depth - 1, 0)
        if kind == tokenize.NAME:
            after_dot = index > 0 and raw[index - 1][1] == "."
            keyword_argument = depth > 0 and index + 1 < len(raw) and raw[index + 1][1] == "="
            if not (
                keyword.iskeyword(string) or string in _BUILTINS or after_dot or keyword_argument
            ):
                string = "N"
        elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
            string = "S"
        tokens.append(Token(string, line + first_line - 1))
    return tokens


def _runs(tokens: list[Token]) -> dict[tuple[str, ...], int]:
    """Every run of MIN_TOKENS consecutive tokens, mapped to the line it starts on."""
    runs: dict[tuple[str, ...], int] = {}
    for start in range(len(tokens) - MIN_TOKENS + 1):
        key = tuple(t.text for t in tokens[start : start + MIN_TOKENS])
        runs.setdefault(key, tokens[start].line)
    return runs


def find_leaks(blocks: list[tuple[int, str]], visible: list[tuple[str, str]]) -> list[Leak]:
    """The solution blocks whose code appears, normalised, in student-visible code.

    Args:
        blocks: ``(first_line, code)`` of each solution block, lines numbered as in
            the source.
        visible: ``(name, text)`` of each student-visible unit, lines numbered from 1
            (the student's view of a source keeps the source's numbering).

    Returns:
        One `Leak` per block with at least `LEAK_COVERAGE` of its tokens covered.
    """
    seen: dict[tuple[str, ...], tuple[str, int]] = {}
    for name, text in visible:
        for key, line in _runs(normalise(text)).items():
            seen.setdefault(key, (name, line))
    leaks = []
    for first_line, code in blocks:
        tokens = normalise(textwrap.dedent(code), first_line)
        covered = [False] * len(tokens)
        first_found = None
        for start in range(len(tokens) - MIN_TOKENS + 1):
            key = tuple(t.text for t in tokens[start : start + MIN_TOKENS])
            if key in seen:
                covered[start : start + MIN_TOKENS] = [True] * MIN_TOKENS
                first_found = first_found or seen[key]
        if tokens and sum(covered) / len(tokens) >= LEAK_COVERAGE:
            coverage = sum(covered) / len(tokens)
            leaks.append(Leak(first_line, coverage, *first_found))
    return leaks
