"""What kind of text a real file passed as ``--against`` is, so each modality takes its own."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path


def sequence_text(path: Path) -> bool:
    """Whether the file's first data line is SPMF sequence text (holds ``-1`` or ``-2``, which
    a FIMI transaction file never does; gzip allowed, comment lines skipped)."""
    try:
        with Path(path).open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
            head = gzip.GzipFile(fileobj=fh).read(1 << 16) if gz else fh.read(1 << 16)
    except (OSError, EOFError, zlib.error):
        return False
    for line in head.splitlines():
        tokens = line.split()
        if tokens and tokens[0][:1] not in b"#%@":
            return b"-1" in tokens or b"-2" in tokens
    return False
