"""The SPMF reader is strict: the numba parser against a plain-Python twin of the format's rules,
on valid and damaged texts, and its errors through ``medmgen fit`` and a block ``source``."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sequence_reference as ref

from medmgen.cli import main
from medmgen_sequence import _spmf_kernels as sk

_TIME = re.compile(r"<(\d+)>")
_INT = re.compile(r"-?\d+")


def twin(text: str) -> tuple[int, int, list]:
    """``(error, line, db)`` by the rules ``parse_spmf`` documents (single spaces between tokens)."""
    db: list = []
    timed = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line[0] in "#%@":
            continue
        tokens = line.split()
        seq: list = []
        cur: list = []
        stamped, ended, last = False, False, -1
        for j, tok in enumerate(tokens):
            if ended:
                return 6, number, []
            if tok.startswith("<"):
                if tok.startswith("<-"):
                    return 9, number, []
                m = _TIME.fullmatch(tok)
                if m is None or int(m[1]) > 10**18 or j == len(tokens) - 1:
                    return 8, number, []
                if stamped or cur:
                    return 10, number, []
                if int(m[1]) < last:
                    return 12, number, []
                stamped, last = True, int(m[1])
                continue
            if not _INT.fullmatch(tok):
                return 1, number, []
            v = int(tok)
            if v == -1:
                if not cur:
                    return 3, number, []
                if len(set(cur)) < len(cur):
                    return 7, number, []
                if timed is not None and timed != stamped:
                    return 11, number, []
                timed = stamped
                seq.append(sorted(cur))
                cur, stamped = [], False
            elif v == -2:
                if stamped:
                    return 10, number, []
                if cur or not seq:
                    return 4, number, []
                ended = True
            elif not 1 <= v <= 2**31 - 1:
                return 2, number, []
            else:
                cur.append(v)
        if not ended:
            return 5, number, []
        db.append(seq)
    return 0, text.count("\n") + 1, db


def parse(text: str) -> tuple[int, int, list]:
    error, line, so, to, it = sk.parse_spmf(np.frombuffer(text.encode(), np.uint8))
    return int(error), int(line), ref.from_csr(so, to, it) if error == 0 else []


def random_lines(rng: np.random.Generator, n: int, timed: bool) -> list[list[str]]:
    """Token lists of valid lines (itemsets unsorted on purpose: the reader sorts them)."""
    out = []
    for _ in range(n):
        tokens, t = [], int(rng.integers(0, 5))
        for _ in range(int(rng.integers(1, 5))):
            if timed:
                tokens.append(f"<{t}>")
                t += int(rng.integers(0, 4))
            tokens += [str(x) for x in rng.permutation(np.arange(1, 30))[: int(rng.integers(1, 4))]]
            tokens.append("-1")
        out.append([*tokens, "-2"])
    return out


def damage(rng: np.random.Generator, tokens: list[str]) -> list[str]:
    """One random edit of the kind real files get wrong."""
    tokens = list(tokens)
    j = int(rng.integers(0, len(tokens)))
    kind = int(rng.integers(0, 9))
    if kind == 0:  # an item repeated
        items = [i for i, tok in enumerate(tokens) if _INT.fullmatch(tok) and int(tok) > 0]
        i = items[int(rng.integers(0, len(items)))]
        tokens.insert(i, tokens[i])
    elif kind == 1:
        tokens.insert(j, f"<-{int(rng.integers(1, 9))}>")
    elif kind == 2:
        tokens.insert(j, f"<{int(rng.integers(0, 9))}>")
    elif kind == 3 and j + 1 < len(tokens):  # a time glued to the next token
        tokens[j:j + 2] = [tokens[j] + tokens[j + 1]]
    elif kind == 4:
        del tokens[j]
    elif kind == 5:
        tokens.insert(j, str(int(rng.integers(-3, 3))))
    elif kind == 6:
        tokens.insert(j, "<>")
    elif kind == 7:
        tokens.insert(j, "-1")
    else:
        tokens.append("5")
    return tokens


@pytest.mark.parametrize("timed", [False, True])
def test_parser_matches_its_twin_on_valid_and_damaged_text(timed):
    rng = np.random.default_rng(21 + timed)
    seen = set()
    for trial in range(400):
        lines = random_lines(rng, 6, timed)
        if trial % 4:
            i = int(rng.integers(0, len(lines)))
            lines[i] = damage(rng, lines[i])
        text = "".join(" ".join(tokens) + "\n" for tokens in lines)
        got, want = parse(text), twin(text)
        assert got[0] == want[0] and (got[0] == 0 or got[1] == want[1]), text
        assert got[2] == want[2]
        seen.add(got[0])
    assert seen >= {0, 1, 2, 3, 5, 6, 7, 8, 9, 11} | ({10} if timed else {4})


def test_the_round_3_cases_are_refused_with_their_line():
    cases = {
        "1 -1 2 2 -1 -2\n": (7, 1),
        "1 -1 -2\n4 9 4 -1 -2\n": (7, 2),
        "<0>5 -1 -2\n": (8, 1),
        "<3> 5 -1 <4> 6 -1 -2\n<5>\t7 -1 <x> 8 -1 -2\n": (8, 2),
        "5 -1 <3> 6 -1 -2\n": (11, 1),
        "<0> 5 -1 -2\n6 -1 -2\n": (11, 2),
        "<0> 5 -1 <-3> 6 -1 -2\n": (9, 1),
        "<5> 5 -1 <3> 6 -1 -2\n": (12, 1),
        "5 <3> 6 -1 -2\n": (10, 1),
        "<3> <4> 6 -1 -2\n": (10, 1),
        "<3> 5 -1 <4> -2\n": (10, 1),
        "<1000000000000000001> 5 -1 -2\n": (8, 1),
    }
    for text, expected in cases.items():
        assert parse(text)[:2] == expected, text
        assert twin(text)[:2] == expected, text


def test_parser_sorts_itemsets_and_keeps_times_per_sequence():
    assert parse("9 3 -1 2 -1 -2\n")[2] == [[[3, 9], [2]]]
    many = list(range(60, 0, -1))  # longer than the insertion-sort limit
    assert parse(" ".join(map(str, many)) + " -1 -2\n")[2] == [[sorted(many)]]
    assert parse(" ".join(map(str, [*many, 7])) + " -1 -2\n")[0] == 7
    # times restart on each line; equal times are allowed
    assert parse("<9> 1 -1 <9> 2 -1 -2\n<0> 3 -1 -2\n")[2] == [[[1], [2]], [[3]]]


@pytest.mark.parametrize(("text", "message"), [
    ("1 -1 -2\n1 -1 2 2 -1 -2\n", "line 2: item repeated within an itemset"),
    ("<0>5 -1 -2\n", "line 1: malformed timestamp"),
    ("5 -1 <3> 6 -1 -2\n", "line 1: timestamps on some itemsets only"),
    ("<0> 5 -1 <-3> 6 -1 -2\n", "line 1: negative timestamp"),
])
def test_fit_and_source_refuse_the_file_naming_its_line(tmp_path, capsys, text, message):
    src = tmp_path / "real.txt"
    src.write_text(text)
    assert main(["fit", "sequence", str(src)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:{message}" in err and err.count("\n") == 1
    spec = tmp_path / "spec.toml"
    spec.write_text('[dataset]\nseed = 1\n[blocks.b]\nmodality = "sequence"\nsource = "real.txt"\n')
    assert main(["generate", str(spec), "-o", str(tmp_path / "pkg")]) == 2
    assert f"real.txt:{message}" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()
