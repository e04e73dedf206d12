"""Read FIMI / SPMF transaction databases into CSR arrays.

Format: one transaction a line, item ids as decimal integers separated by spaces or
tabs (``\\r\\n`` line ends are fine). Rules this reader applies:

- a blank line is an *empty transaction* (it counts as a record, as SPMF writers emit
  an empty line for an empty basket); a final newline does not add one;
- a line whose first non-blank character is ``#``, ``%`` or ``@`` is a comment or SPMF
  metadata and is skipped;
- each transaction is a set: ids come back sorted, repeated ids dropped;
- ids are positive (SPMF); ``allow_zero=True`` also accepts 0, which FIMI files such as
  ``retail.dat`` use (:func:`positive_ids` shifts such a database to 1-based ids);
- gzip input is recognised by its magic bytes, whatever the file name.

Anything else (a non-digit token such as ``-1`` or ``3:5``, an id above 2^31 - 2) is an
:class:`medmgen.errors.InputError` naming the file and ``line N``.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from medmgen.errors import InputError
from medmgen_transaction import _fit_kernels as K

_PROBLEMS = {
    K.BAD_TOKEN: "not a transaction line",
    K.TOO_LARGE: "not a transaction line: item id above 2147483646",
    K.ZERO_ID: "not a transaction line: item id 0",
}


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, decompressed if it is gzip."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError.one(str(path), "", f"cannot read transaction file: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError.one(str(path), "", f"not a readable gzip file: {exc}") from None
    return raw


def parse_transactions(data: bytes, source: str, *, allow_zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(offsets int64[n+1], items int32[m])`` of FIMI/SPMF text; ``source`` names it in errors."""
    buf = np.frombuffer(data, dtype=np.uint8)
    n, tokens, error, line, start, end = K.scan_fimi(buf, allow_zero)
    if error != K.OK:
        token = data[start:end].decode("utf-8", errors="replace")
        expected = ("space-separated non-negative integer ids" if allow_zero
                    else "space-separated positive integer ids")
        raise InputError.one(source, f"line {line}", _PROBLEMS[error], expected=expected, got=token)
    return K.parse_fimi(buf, n, tokens)


def read_transactions(path: str | Path, *, allow_zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(offsets int64[n+1], items int32[m])`` of a FIMI/SPMF file (``.gz`` allowed)."""
    return parse_transactions(read_bytes(path), str(path), allow_zero=allow_zero)


def positive_ids(items: np.ndarray) -> tuple[np.ndarray, int]:
    """Ids shifted to start at 1 if the database uses id 0, and the shift applied (0 or 1)."""
    if items.size and int(items.min()) == 0:
        return items + np.int32(1), 1
    return items, 0
