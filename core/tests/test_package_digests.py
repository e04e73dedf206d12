"""Digests writers record for the manifest (``package.remember_digest``)."""

from __future__ import annotations

import hashlib
import os

from medmgen import package
from medmgen.plugins import load_registry
from medmgen.spec import load_spec


def test_manifest_takes_a_remembered_digest_only_while_the_file_is_unchanged(tmp_path, toy_spec):
    spec = load_spec(toy_spec, load_registry())
    data = tmp_path / "data"
    data.mkdir()
    draft, final = data / ".x.txt.draft", data / "x.txt"
    draft.write_bytes(b"1 2 3\n")
    package.remember_digest(draft, "0" * 64)  # a wrong digest shows which one the manifest used
    os.replace(draft, final)  # writers rename their drafts into place: the digest follows the file
    manifest = package.build_manifest(tmp_path, spec, load_registry())
    assert manifest["files"]["data/x.txt"]["sha256"] == "0" * 64
    # checks never trust a writer: verify_package reads the file
    assert package.verify_package(tmp_path, manifest) == ["data/x.txt: sha256 differs from manifest.json"]

    package.remember_digest(final, "1" * 64)
    final.write_bytes(b"1 2 3 4\n")  # rewritten after the digest was recorded: read again
    manifest = package.build_manifest(tmp_path, spec, load_registry())
    assert manifest["files"]["data/x.txt"]["sha256"] == hashlib.sha256(b"1 2 3 4\n").hexdigest()
    assert package.verify_package(tmp_path, manifest) == []
