"""The FIMI/SPMF reader: numba parser against a plain Python twin, real files, bad input."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest

from medmgen import cli
from medmgen.errors import InputError
from medmgen_transaction.fimi import parse_transactions, positive_ids, read_transactions

FIMI = Path(__file__).resolve().parents[4] / "shared" / "data" / "fimi"  # ../shared


def python_parse(text: str, *, allow_zero: bool = False) -> list[list[int]]:
    """The reader's rules, line by line in plain Python."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        tokens = line.replace("\t", " ").replace("\r", " ").split()
        if tokens and tokens[0][0] in "#%@":
            continue
        ids = [int(t) for t in tokens]
        assert all(t.isdigit() for t in tokens) and all(i > 0 or allow_zero for i in ids)
        out.append(sorted(set(ids)))
    return out


def as_lists(offsets: np.ndarray, items: np.ndarray) -> list[list[int]]:
    return [items[a:b].tolist() for a, b in itertools.pairwise(offsets)]


def random_text(rng: np.random.Generator, lines: int) -> str:
    """Messy but valid text: blank lines, comments, tabs, CRLF, repeats, unsorted ids."""
    parts = []
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.1:
            parts.append(" " * int(rng.integers(0, 3)))
        elif kind < 0.15:
            parts.append(str(rng.choice(["# note", "% x 1", "@CONVERTED_FROM_TEXT", "  #indented"])))
        else:
            ids = rng.integers(1, 50, size=int(rng.integers(1, 12)))
            seps = rng.choice([" ", "  ", "\t"], size=ids.size)
            parts.append("".join(f"{s}{i}" for s, i in zip(seps, ids)).lstrip() + str(rng.choice(["", " ", "\r"])))
    return "\n".join(parts) + str(rng.choice(["", "\n"]))


@pytest.mark.parametrize("seed", range(6))
def test_parser_matches_python_twin(seed: int) -> None:
    text = random_text(np.random.default_rng(seed), 300)
    offsets, items = parse_transactions(text.encode(), "twin.dat")
    assert offsets.dtype == np.int64 and items.dtype == np.int32
    assert as_lists(offsets, items) == python_parse(text)


def test_blank_lines_are_empty_transactions_and_final_newline_is_not() -> None:
    offsets, _ = parse_transactions(b"1 2\n\n3\n", "x.dat")
    assert np.diff(offsets).tolist() == [2, 0, 1]
    assert parse_transactions(b"", "x.dat")[0].tolist() == [0]


@pytest.mark.parametrize("name", ["retail", "T10I4D100K"])
def test_real_file_slice_matches_twin(tmp_path: Path, name: str) -> None:
    with gzip.open(FIMI / f"{name}.dat.gz", "rt") as fh:
        text = "".join(itertools.islice(fh, 3000))
    path = tmp_path / "slice.dat.gz"
    path.write_bytes(gzip.compress(text.encode()))
    offsets, items = read_transactions(path, allow_zero=True)
    assert as_lists(offsets, items) == python_parse(text, allow_zero=True)
    plain = tmp_path / "slice.txt"
    plain.write_text(text)
    assert as_lists(*read_transactions(plain, allow_zero=True)) == as_lists(offsets, items)


def test_positive_ids_shifts_only_zero_based_databases() -> None:
    shifted, shift = positive_ids(np.array([0, 5, 2], dtype=np.int32))
    assert shift == 1 and shifted.tolist() == [1, 6, 3]
    same, shift = positive_ids(np.array([1, 5], dtype=np.int32))
    assert shift == 0 and same.tolist() == [1, 5]


@pytest.mark.parametrize(("text", "line", "token"), [
    (b"1 2\n3 -1\n", "line 2", "-1"),
    (b"1 2\n\n# ok\n4 x7 9\n", "line 4", "x7"),
    (b"1 2.5\n", "line 1", "2.5"),
    (b"3:4:5 1\n", "line 1", "3:4:5"),
    (b"1\n2\n0 3\n", "line 3", "0"),
    (b"1 99999999999\n", "line 1", "99999999999"),
    (b"2147483646\n2147483647\n", "line 2", "2147483647"),
])
def test_malformed_lines_name_file_and_line(tmp_path: Path, text: bytes, line: str, token: str) -> None:
    path = tmp_path / "bad.dat"
    path.write_bytes(text)
    with pytest.raises(InputError) as err:
        read_transactions(path)
    (problem,) = err.value.problems
    assert err.value.source == str(path)
    assert problem.path == line
    assert problem.message.startswith("not a transaction line")
    assert problem.got == token


def test_zero_allowed_on_request_and_largest_id_still_shifts() -> None:
    _, items = parse_transactions(b"0 3 2147483646\n", "z.dat", allow_zero=True)
    assert items.tolist() == [0, 3, 2147483646]
    assert positive_ids(items)[0].tolist() == [1, 4, 2147483647]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_transactions(tmp_path / "missing.dat")
    broken = tmp_path / "broken.dat.gz"
    broken.write_bytes(gzip.compress(bytes(range(256)) * 8)[:-12])
    with pytest.raises(InputError, match="gzip"):
        read_transactions(broken)


def test_malformed_source_file_stops_generate_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "real.dat").write_text("1 2 3\n2 3\n4 5 x\n")
    spec = tmp_path / "spec.toml"
    spec.write_text('[blocks.b]\nmodality = "transaction"\nsource = "real.dat"\n')
    out = tmp_path / "out"
    assert cli.main(["-q", "generate", str(spec), "-o", str(out)]) == 2
    assert f"{tmp_path / 'real.dat'}:line 3: not a transaction line" in capsys.readouterr().err
    assert not out.exists()
