"""Sequence data in memory (CSR arrays), its Arrow batches and SPMF text in and out."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import weakref
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, suppress
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from attrs import frozen

from medmgen.errors import InputError
from medmgen.package import remember_digest, sha256_file
from medmgen_sequence import _spmf_kernels as sk
from medmgen_sequence.threads import numba_threads

# Sequences per Arrow batch, Parquet row group and SPMF write; bounds the memory of a write
# (the text's bytes do not depend on it; a row group holds fewer than 2**31 items).
ROW_GROUP = 131_072
PARQUET = {"compression": "zstd", "write_statistics": True}

_FORMAT = "ids, -1 after each itemset, -2 at the end (e.g. '5 -1 8 9 -1 -2')"
_TIMED = "'<t> ' before every itemset's first item, t a whole number (e.g. '<0> 5 -1 <3> 8 9 -1 -2')"
_PARSE_ERRORS = {  # parse_spmf's error codes: (problem, expected)
    1: ("not an integer token", _FORMAT),
    2: ("item id outside 1..2147483647 (only -1 and -2 may be negative)", _FORMAT),
    3: ("empty itemset (-1 with no item before it)", _FORMAT),
    4: ("-2 must follow an itemset's -1 (and a sequence needs at least one itemset)", _FORMAT),
    5: ("line does not end with -2", _FORMAT),
    6: ("text after -2 on the same line", _FORMAT),
    7: ("item repeated within an itemset (SPMF itemsets are sets; SPMF's Fix_a_sequence_database "
         "tool removes repeats)", "distinct ids in each itemset"),
    8: ("malformed timestamp", "'<t>' then a space, t a whole number 0..10^18"),
    9: ("negative timestamp", "times >= 0"),
    10: ("timestamp not at the start of an itemset (or with no itemset after it)", _TIMED),
    11: ("timestamps on some itemsets only (a file has '<t>' before every itemset, or none)", _TIMED),
    12: ("time earlier than the previous itemset's (times must not decrease within a sequence)",
         "non-decreasing times along each line"),
}


@frozen(kw_only=True)
class SequenceData:
    """A block's sequences: ``seq_off`` -> itemsets, ``set_off`` -> ``items`` (sorted per itemset).

    ``times`` holds one time per itemset, or nothing when the block has no timestamps;
    ``workers`` is how many threads write the files (the bytes do not depend on it).
    Arrow views (:meth:`batches`, :meth:`tables`) are cut ``ROW_GROUP`` sequences at a time.
    """

    seq_off: np.ndarray
    set_off: np.ndarray
    items: np.ndarray
    times: np.ndarray = attrs.field(factory=lambda: np.empty(0, np.int64))
    workers: int = attrs.field(default=1, eq=False)
    _files: _Files = attrs.field(factory=lambda: _Files(), init=False, eq=False, repr=False)

    @property
    def records(self) -> int:
        return int(self.seq_off.shape[0] - 1)

    @property
    def timed(self) -> bool:
        return bool(self.times.shape[0])

    def rows(self) -> Mapping[str, int]:
        """Rows per part without building the table."""
        return {"": self.records}

    def schema(self, part: str = "") -> pa.Schema:
        """``itemsets`` as ``list<list<int32>>`` (and ``timestamps`` as ``list<int64>``)."""
        if part:
            raise KeyError(part)
        fields = [pa.field("itemsets", pa.list_(pa.list_(pa.int32())))]
        if self.timed:
            fields.append(pa.field("timestamps", pa.list_(pa.int64())))
        return pa.schema(fields)

    def batch(self, lo: int, hi: int) -> pa.RecordBatch:
        """Sequences ``lo..hi-1`` as one record batch (item and time values are not copied)."""
        a, b = int(self.seq_off[lo]), int(self.seq_off[hi])
        x0, x1 = int(self.set_off[a]), int(self.set_off[b])
        outer = _rebased(self.seq_off[lo:hi + 1])
        inner = pa.ListArray.from_arrays(_rebased(self.set_off[a:b + 1]), pa.array(self.items[x0:x1]))
        columns = [pa.ListArray.from_arrays(outer, inner)]
        if self.timed:
            columns.append(pa.ListArray.from_arrays(outer, pa.array(self.times[a:b])))
        return pa.RecordBatch.from_arrays(columns, schema=self.schema())

    def batches(self, part: str = "") -> Iterator[pa.RecordBatch]:
        """One row per sequence, ``ROW_GROUP`` rows a batch (what evaluators stream)."""
        if part != "":
            raise KeyError(part)
        for lo in range(0, self.records, ROW_GROUP):
            yield self.batch(lo, min(self.records, lo + ROW_GROUP))

    def tables(self) -> Mapping[str, pa.Table]:
        """The whole block as one table (of :meth:`batches` chunks)."""
        return {"": pa.Table.from_batches(list(self.batches()), schema=self.schema())}

    def write_ahead(self, directory: Path, block: str, tag: str, others: list[Draft]) -> list[Draft]:
        """Start writing ``<block>.parquet`` and the SPMF texts now, on background threads,
        into ``directory`` (the package's ``data/``) under ``.``-names, for
        :meth:`write_parquet` to rename into place (it writes again what was cancelled).
        ``others`` are the block's other passes' drafts, which :meth:`write_parquet` waits
        for and removes."""
        directory = Path(directory)
        texts = [directory / f".{p.name}.{tag}" for p in self._text_paths(directory, block)]
        self._files.draft = ParquetDraft(self, [directory / f".{block}.parquet.{tag}"], "parquet-draft")
        self._files.text = TextDraft(self, texts, "text-draft")
        self._files.others = others
        return [self._files.draft, self._files.text]

    def write_parquet(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.parquet`` (zstd, one row group per ``ROW_GROUP`` sequences) and, in the
        same sweep, the text files of :meth:`write_extra`. The stages overlap: this thread
        formats a chunk's text (numba) while another writes the previous one to disk, and
        the Parquet file is encoded on a third thread, a row group per chunk (file writes and
        pyarrow release the GIL); files :meth:`write_ahead` drafted are renamed into place
        instead."""
        directory = Path(directory)
        path = directory / f"{block}.parquet"
        draft, text = self._files.draft, self._files.text
        if draft is None or text is None:
            with pq.ParquetWriter(path, self.schema(), **PARQUET) as writer:
                self._sweep(directory, block, writer)
        else:
            if not text.move_to(self._text_paths(directory, block)):  # cancelled or used: write it now
                self._sweep(directory, block, None)
            if not draft.move_to([path]):
                with pq.ParquetWriter(path, self.schema(), **PARQUET) as writer:
                    for batch in self.batches():
                        writer.write_batch(batch, row_group_size=batch.num_rows)
        for other in self._files.others:  # passes not kept: their files go before the package is hashed
            if other is not draft and other is not text:
                other.drop()
        self._files.written.add((directory, block))
        return [path]

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        """``<block>.txt`` (SPMF) and, with timestamps, ``<block>.timestamped.txt``
        (already there when :meth:`write_parquet` ran on the same directory and block)."""
        directory = Path(directory)
        if (directory, block) not in self._files.written:
            self._sweep(directory, block, None)
        return self._text_paths(directory, block)

    def _sweep(self, directory: Path, block: str, writer: pq.ParquetWriter | None) -> None:
        """Chunk by chunk: the text files and, with ``writer``, the Parquet row groups."""
        with ExitStack() as stack:
            files = [stack.enter_context(p.open("wb")) for p in self._text_paths(directory, block)]
            encode, save = (stack.enter_context(ThreadPoolExecutor(1)) for _ in range(2))
            stack.enter_context(numba_threads(self.workers))
            pending: list[Future] = []
            for lo in range(0, self.records, ROW_GROUP):
                hi = min(self.records, lo + ROW_GROUP)
                if writer is not None:
                    batch = self.batch(lo, hi)
                    pending.append(encode.submit(writer.write_batch, batch, row_group_size=batch.num_rows))
                for f, timed in zip(files, (False, True)):
                    pending.append(save.submit(f.write, self._text(lo, hi, timed)))
                while len(pending) > 6:  # at most two chunks in flight: memory stays flat
                    pending.pop(0).result()
            for fut in pending:
                fut.result()

    def _text_paths(self, directory: Path, block: str) -> list[Path]:
        paths = [directory / f"{block}.txt"]
        if self.timed:
            paths.append(directory / f"{block}.timestamped.txt")
        return paths

    def _text(self, lo: int, hi: int, timed: bool, one_thread: bool = False) -> np.ndarray:
        times = self.times if timed else np.empty(0, np.int64)
        kernel = sk.spmf_text if one_thread else sk.spmf_bytes
        return kernel(self.seq_off, self.set_off, self.items, times, lo, hi)


@attrs.define
class _Files:
    """The mutable side of a :class:`SequenceData`: its draft, and where its text is written."""

    draft: ParquetDraft | None = None
    text: TextDraft | None = None
    others: list[Draft] = attrs.Factory(list)
    written: set[tuple[Path, str]] = attrs.Factory(set)


class Draft:
    """Some of a block's files written ahead, on a background thread, beside their final
    place (the package's ``data/``, ``BlockContext.data_dir``) under ``.``-names; renamed
    into place by :meth:`move_to`, or removed when dropped.

    :meth:`cancel` (a feedback pass that is superseded) stops it as soon as it can and
    marks it unusable. :class:`ParquetDraft` encodes the Parquet file in one pyarrow call
    (no GIL for the whole file); :class:`TextDraft` formats the SPMF texts a chunk at a time
    with a GIL-free one-thread kernel, so both overlap the ledger's counting.
    """

    def __init__(self, data: SequenceData, paths: Sequence[Path], name: str) -> None:
        self._paths = list(paths)
        self._cancel = threading.Event()
        self._done = False
        self._error: BaseException | None = None
        self._drop = weakref.finalize(self, _remove, *self._paths)
        self._thread = threading.Thread(target=self._guard, args=(data,), name=name, daemon=True)
        self._thread.start()

    def _guard(self, data: SequenceData) -> None:
        try:
            self._write(data)
            self._done = not self._cancel.is_set()
        except BaseException as exc:  # handed to the writer, which raises it
            self._error = exc

    def _write(self, data: SequenceData) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        """Do not use this draft (a later pass replaced its data)."""
        self._cancel.set()

    def drop(self) -> None:
        """Cancel it, wait for its thread and remove its files."""
        self._cancel.set()
        self._thread.join()
        self._drop()

    def move_to(self, paths: Sequence[Path]) -> bool:
        """Rename the finished files to ``paths`` when they are in the same directory (once);
        False when cancelled, already used or elsewhere."""
        if [Path(p).parent for p in paths] != [p.parent for p in self._paths]:
            return False
        self._thread.join()
        if self._error is not None:
            raise self._error
        if not self._done or not self._drop.alive:
            return False
        for tmp, path in zip(self._paths, paths, strict=True):
            os.replace(tmp, path)
        self._drop.detach()
        return True


class ParquetDraft(Draft):
    """``<block>.parquet`` written ahead (see :class:`Draft`)."""

    def _write(self, data: SequenceData) -> None:
        table = pa.Table.from_batches(list(data.batches()), schema=data.schema())
        if not self._cancel.is_set():  # one call: pyarrow never waits for the GIL mid-file
            pq.write_table(table, self._paths[0], row_group_size=ROW_GROUP, **PARQUET)
            remember_digest(self._paths[0], sha256_file(self._paths[0]))  # here, not at the manifest


class TextDraft(Draft):
    """``<block>.txt`` (and ``<block>.timestamped.txt``) written ahead (see :class:`Draft`)."""

    def _write(self, data: SequenceData) -> None:
        with ExitStack() as stack:
            files = [stack.enter_context(p.open("wb")) for p in self._paths]
            digests = [hashlib.sha256() for _ in files]  # hashed as written, for the manifest
            for lo in range(0, data.records, ROW_GROUP):
                if self._cancel.is_set():
                    return
                hi = min(data.records, lo + ROW_GROUP)
                for f, digest, timed in zip(files, digests, (False, True)):  # one thread, GIL-free
                    text = data._text(lo, hi, timed, one_thread=True)
                    f.write(text)
                    digest.update(text)
        for path, digest in zip(self._paths, digests):
            remember_digest(path, digest.hexdigest())


def _remove(*paths: Path) -> None:
    for path in paths:
        with suppress(FileNotFoundError):
            os.remove(path)


def _rebased(offsets: np.ndarray) -> pa.Array:
    """Offsets from 0, as the ``int32`` array a list needs (cast as they are computed: no
    ``int64`` copy)."""
    out = np.empty(offsets.shape[0], np.int32)
    np.subtract(offsets, offsets[0], out=out, casting="unsafe")
    return pa.array(out)


def read_spmf(path: Path) -> SequenceData:
    """Read an SPMF sequence file (gzip allowed; timestamps, if any, are checked, then
    skipped); a malformed line raises :class:`InputError` naming it. Items of an itemset
    may come in any order (they are sorted); a repeated item is an error, as SPMF's format
    forbids it."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError.one(str(path), "", f"cannot read: {exc}") from None
    if raw[:2].tobytes() == b"\x1f\x8b":
        try:
            raw = np.frombuffer(gzip.decompress(raw.tobytes()), np.uint8)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError.one(str(path), "", f"not a readable gzip file: {exc}") from None
    error, line, seq_off, set_off, items = sk.parse_spmf(raw)
    if error:
        text = bytes(raw).split(b"\n")[line - 1].decode("utf-8", "replace").strip()
        raise InputError.one(str(path), f"line {line}", *_PARSE_ERRORS[error],
                             text if len(text) <= 60 else text[:57] + "...")
    if seq_off.shape[0] < 2:
        raise InputError.one(str(path), "", "no sequences", "SPMF lines such as '5 -1 8 9 -1 -2'", "none")
    return SequenceData(seq_off=seq_off, set_off=set_off, items=items)
