"""The dataset package on disk: written atomically, hashed in ``manifest.json``.

Layout (see ``docs/contract``)::

    DIR/manifest.json spec.toml ledger.json report.json report.html data/<block>.*

Everything is written into a temporary directory beside ``DIR`` (generators may write
their data files there while they run) and moved into place, ``manifest.json`` last, so
an interrupted run never leaves a half package that looks whole. The only
non-hashed content is ``report.json``'s ``cost`` field (wall times and memory); the
manifest hashes ``report.json`` with that field removed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from medmgen import ledger as ledger_mod
from medmgen import seeds
from medmgen.errors import InputError
from medmgen.plugins import Registry

MANIFEST_FORMAT = "medmgen.manifest/1"
UNHASHED = {"report.json": "cost"}


def canonical_json(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False, default=_jsonable) + "\n"


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# sha256 of finished files, hashed by their writers (often on a background thread, as the
# bytes went out): (device, inode, size, mtime_ns) -> digest. A rename keeps the key; any
# rewrite changes it, and build_manifest then reads the file again.
_DIGESTS: dict[tuple[int, int, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def remember_digest(path: Path, sha256: str) -> None:
    """Record the sha256 a writer computed for the closed file ``path``: :func:`build_manifest`
    takes it instead of reading the file again while the file is unchanged (renames allowed)."""
    key = _stat_key(Path(path).stat())
    with _DIGESTS_LOCK:
        _DIGESTS[key] = sha256


def _file_sha256(path: Path) -> str:
    with _DIGESTS_LOCK:
        known = _DIGESTS.pop(_stat_key(path.stat()), None)
    return known if known is not None else sha256_file(path)


def file_digest(root: Path, rel: str, *, remembered: bool = False) -> dict[str, Any]:
    """``rel``'s manifest entry; with ``remembered``, a digest its writer recorded
    (:func:`remember_digest`) stands for reading the file (checks never pass it)."""
    path = root / rel
    if rel in UNHASHED:
        data = json.loads(path.read_text())
        data.pop(UNHASHED[rel], None)
        text = canonical_json(data).encode()
        return {"sha256": hashlib.sha256(text).hexdigest(), "excludes": UNHASHED[rel]}
    return {"sha256": _file_sha256(path) if remembered else sha256_file(path), "size": path.stat().st_size}


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check_output(target: Path, force: bool = False) -> Path:
    """``target`` made absolute, if :func:`atomic_dir` may write there; else an input error
    (checked before generating too, so a bad ``-o`` fails at once)."""
    target = Path(target).resolve()
    if target.exists():
        if not target.is_dir():
            raise InputError.one(str(target), "", "output path exists and is not a directory",
                                 "a new or empty directory, or a package to replace with --force", "a file")
        entries = list(target.iterdir())
        if entries and not (force and _ours(target)):
            expected = ("a new or empty directory (or --force)" if not force else
                        "a new or empty directory, or a medmgen package or comparison (--force replaces only those)")
            raise InputError.one(str(target), "", "output directory exists and is not empty", expected,
                                 f"{len(entries)} entries" + ("" if not force else ", not made by medmgen"))
    return target


def _ours(directory: Path) -> bool:
    """A dataset package (its manifest.json has our format) or a ``medmgen compare`` output."""
    try:
        return json.loads((directory / "manifest.json").read_text()).get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AttributeError):
        return (directory / "compare.json").is_file() and (directory / "compare.md").is_file()


@contextmanager
def atomic_dir(target: Path, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory whose files become ``target``'s only on success.

    ``target`` may be missing or an empty directory; with ``force`` it may also be a
    package or comparison medmgen wrote (see :func:`check_output`), whose files are
    replaced. An existing directory is kept (it may be the working directory): its old
    entries go, the new ones move in, ``manifest.json`` last, so a package is complete
    once its manifest is there.
    """
    target = check_output(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
    except BaseException:
        _remove_tree(tmp)
        raise
    if not target.exists():
        os.rename(tmp, target)
        return
    for old in target.iterdir():
        shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    for entry in sorted(tmp.iterdir(), key=lambda e: e.name == "manifest.json"):
        os.rename(entry, target / entry.name)
    tmp.rmdir()


def _remove_tree(tmp: Path) -> None:
    """Remove ``tmp``; a generator's writer thread may still create a file in it for a moment
    (a run interrupted while writing ahead), so try again briefly."""
    for _ in range(20):
        shutil.rmtree(tmp, ignore_errors=True)
        if not tmp.exists():
            return
        time.sleep(0.05)


def write_package(result: Any, out: Path, registry: Registry, *, force: bool = False) -> Path:
    """Write a :class:`medmgen.pipeline.RunResult` as a dataset package at ``out``."""
    out = Path(out)
    with atomic_dir(out, force=force) as tmp:
        fill_package(result, tmp, registry)
    return out


def fill_package(result: Any, tmp: Path, registry: Registry) -> None:
    """The package's files, in ``tmp`` (its ``data/`` may already hold files the generators
    wrote ahead, see ``BlockContext.data_dir``)."""
    from medmgen import report as report_mod

    # The report page (matplotlib, mostly Python) is drawn on a thread while the blocks'
    # files are encoded or moved into place (pyarrow, numba: outside the GIL).
    with ThreadPoolExecutor(1) as drawing:
        page = drawing.submit(report_mod.render_html, result.spec, result.ledger, result.report, result.figures)
        data = tmp / "data"
        data.mkdir(exist_ok=True)
        for name, block in result.blocks.items():
            own_writer = getattr(block.data, "write_parquet", None)
            if callable(own_writer):  # the block streams its own files, in its own order
                own_writer(data, name)
                block.data.write_extra(data, name)
                continue
            with ThreadPoolExecutor(2) as pool:  # Parquet (pyarrow) and the text files overlap
                extra = pool.submit(block.data.write_extra, data, name)
                for part, table in block.data.tables().items():
                    write_parquet(table, data / (f"{name}.{part}.parquet" if part else f"{name}.parquet"))
                extra.result()
        for rel, table in sorted(result.files.items()):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            write_parquet(table, tmp / rel)
        (tmp / "spec.toml").write_text(result.spec.to_toml())
        (tmp / "ledger.json").write_text(canonical_json(ledger_mod.to_json_dict(result.ledger)))
        (tmp / "report.json").write_text(canonical_json(result.report))
        for stale in data.glob(".*"):  # files written ahead for a pass that was not kept
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        (tmp / "report.html").write_text(page.result())
        manifest = build_manifest(tmp, result.spec, registry)
        (tmp / "manifest.json").write_text(canonical_json(manifest))


def build_manifest(root: Path, spec: Any, registry: Registry) -> dict[str, Any]:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "manifest.json")
    plugins = {p.distribution: p.version for p in registry.plugins if p.distribution and p.ok}
    with ThreadPoolExecutor(2) as pool:  # hashlib releases the GIL: big files hash side by side
        digests = list(pool.map(lambda rel: file_digest(root, rel, remembered=True), files))
    return {
        "format": MANIFEST_FORMAT,
        "medmgen": _version("medmgen"),
        "plugins": dict(sorted(plugins.items())),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "pyarrow": _version("pyarrow"),
        "python": platform.python_version(),
        "seed": spec.dataset.seed,
        "streams": {name: {"entropy": spec.dataset.seed, "spawn_key": [seeds.block_key(name)]}
                    for name in spec.blocks},
        "spec_sha256": spec.digest(),
        "spec_dir": str(spec.directory),
        "inputs": _inputs(spec),
        "unhashed": [f"{k}#{v}" for k, v in UNHASHED.items()],
        "files": dict(zip(files, digests, strict=True)),
    }


def _inputs(spec: Any) -> dict[str, Any]:
    """Each block's ``source`` file (contract key): as written, and its sha256."""
    out = {}
    for name, block in spec.blocks.items():
        src = getattr(block, "source", None)
        if isinstance(src, str) and src:
            path = Path(src).expanduser()
            path = path if path.is_absolute() else spec.directory / path
            out[f"blocks.{name}.source"] = {"path": src, "sha256": sha256_file(path) if path.is_file() else None}
    return out


def spec_dir_of(package: Path) -> Path | None:
    """Where the package's original spec was, so its relative ``source`` paths still resolve."""
    manifest = package / "manifest.json"
    if not manifest.is_file():
        return None
    value = read_json(manifest).get("spec_dir")
    return Path(value) if value else None


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError.one(str(path), "", "file not found (is this a medmgen dataset package?)") from None
    except json.JSONDecodeError as exc:
        raise InputError.one(str(path), "", f"not valid JSON: {exc}") from None


def compare_manifests(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Files whose hashes differ between two manifests (missing files included)."""
    fa, fb = a.get("files", {}), b.get("files", {})
    diffs = []
    for rel in sorted(set(fa) | set(fb)):
        if rel not in fa or rel not in fb:
            diffs.append(f"{rel}: only in {'the original' if rel in fa else 'the reproduction'}")
        elif fa[rel].get("sha256") != fb[rel].get("sha256"):
            diffs.append(f"{rel}: sha256 differs")
    return diffs


def verify_package(directory: Path, manifest: Mapping[str, Any], *, hashes: bool = True) -> list[str]:
    """How a package's files differ from its own manifest: missing, or changed (sha256, with
    ``hashes``). Files the manifest does not list (a ``.DS_Store``...) are not its business."""
    listed = manifest.get("files", {})
    missing = sorted(rel for rel in listed if not (directory / rel).is_file())
    out = [f"{rel}: listed in manifest.json, missing" for rel in missing]
    if hashes:
        for rel in sorted(set(listed) - set(missing)):
            if file_digest(directory, rel)["sha256"] != listed[rel].get("sha256"):
                out.append(f"{rel}: sha256 differs from manifest.json")
    return out


def block_files(directory: Path) -> dict[str, dict[str, Path]]:
    """Parquet files of a package's ``data/`` by block and part."""
    out: dict[str, dict[str, Path]] = {}
    for path in sorted((directory / "data").glob("*.parquet")):
        stem = path.name[: -len(".parquet")]
        block, _, part = stem.partition(".")
        out.setdefault(block, {})[part] = path
    return out
