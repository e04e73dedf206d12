"""The spec: TOML in, a typed, validated, defaults-filled :class:`Spec` out.

Parsing collects *every* problem (TOML syntax, unknown keys, wrong types, out-of-range
values, unknown modalities or generators, cross-field conflicts) and raises one
:class:`medmgen.errors.InputError` naming the file and each key path.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import tomli_w
from attrs import frozen

from medmgen.converter import converter, structure
from medmgen.errors import InputError, PluginError, Problem
from medmgen.fields import check_instance, join, setting
from medmgen.interfaces import BlockSpec, PrivacyStep, Section
from medmgen.overrides import apply_overrides
from medmgen.plugins import Registry

BLOCK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@frozen(kw_only=True)
class DatasetSection:
    """``[dataset]``: the dataset's name and root seed."""

    name: str = setting("dataset", doc="Name of the dataset, used in reports.")
    seed: int = setting(0, doc="Root seed of every random stream; --seed overrides.", ge=0, lt=2**63)
    description: str = setting("", doc="Free text carried into the report.")


@frozen(kw_only=True)
class FeedbackSection:
    """``[feedback]``: the controller that steers realized values onto targets."""

    max_iterations: int = setting(6, doc="Generation passes at most (1 = no feedback).", ge=1, le=100)
    gain: float = setting(1.0, doc="Fraction of each pattern's error corrected per pass.", gt=0, le=2)


@frozen(kw_only=True)
class PrivacySection:
    """``[privacy]``: the differential-privacy budget and the mechanisms that spend it."""

    epsilon: float = setting(1.0, doc="Total epsilon of the (epsilon, delta) budget.", gt=0)
    delta: float = setting(1e-6, doc="Total delta of the budget.", gt=0, lt=1)
    steps: list[dict[str, Any]] = setting(factory=list, doc="Mechanisms applied, in order.")


CORE_SECTIONS = (
    Section(name="dataset", schema=DatasetSection, doc="The dataset's name and root seed."),
    Section(name="feedback", schema=FeedbackSection, doc="The feedback controller (MEDM-GEN Algorithm 3)."),
    Section(name="privacy", schema=PrivacySection, doc="Differential-privacy budget and mechanisms."),
)
CORE_NAMES = tuple(s.name for s in CORE_SECTIONS)


@frozen(kw_only=True)
class Spec:
    """A resolved spec: every block structured by its generator's config class."""

    dataset: DatasetSection
    blocks: dict[str, BlockSpec]
    thresholds: dict[str, float]
    feedback: FeedbackSection = attrs.field(factory=FeedbackSection)
    privacy: PrivacySection | None = None
    privacy_steps: list[PrivacyStep] = attrs.field(factory=list)
    sections: dict[str, Any] = attrs.field(factory=dict)
    source: str = "spec"
    directory: Path = Path(".")

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec as plain data (no ``None``), re-runnable as it is (relative file
        paths as written: see :func:`load_spec` for how a package's copy resolves them)."""
        out: dict[str, Any] = {"dataset": _plain(self.dataset)}
        out["blocks"] = {name: _plain(b) for name, b in self.blocks.items()}
        out["thresholds"] = dict(sorted(self.thresholds.items()))
        out["feedback"] = _plain(self.feedback)
        if self.privacy is not None:
            priv = _plain(self.privacy)
            priv["steps"] = [_plain(s) for s in self.privacy_steps]
            out["privacy"] = priv
        for name, value in self.sections.items():
            out[name] = _plain(value)
        return out

    def tolerances(self) -> dict[str, float]:
        """Each quantity's tolerance: ``max_support_deviation = 0.001`` gives ``{"support": 0.001}``."""
        prefix, suffix = "max_", "_deviation"
        return {k[len(prefix):-len(suffix)]: v for k, v in self.thresholds.items()
                if k.startswith(prefix) and k.endswith(suffix)}

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        return hashlib.sha256(self.to_toml().encode()).hexdigest()



def _plain(obj: Any) -> Any:
    data = converter.unstructure(obj)
    return _drop_none(data)


def _drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list | tuple):
        return [_drop_none(v) for v in data]
    return data


# ------------------------------------------------------------------ loading
def read_toml(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError.one(source, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(source, "", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.one(source, "", f"not valid TOML: {exc}") from None


def _package_spec_dir(directory: Path) -> Path | None:
    """The original spec's directory when ``directory`` is a dataset package (its manifest
    records it), so the package's ``spec.toml`` finds the files the original one named."""
    try:
        recorded = json.loads((directory / "manifest.json").read_text()).get("spec_dir")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(recorded) if isinstance(recorded, str) and recorded else None


def load_spec(
    spec: str | Path | Mapping[str, Any],
    registry: Registry,
    *,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    source: str | None = None,
    base_dir: Path | None = None,
) -> Spec:
    """Read, override, structure and check a spec; raise one error listing every problem.

    ``spec`` is a TOML file or its already-parsed data (then ``source`` names it in
    messages and relative paths resolve against its directory, else the cwd).
    ``base_dir`` overrides where relative paths in the spec (``source = ...``) resolve. A
    package's ``spec.toml`` keeps them as written (so it is the same bytes wherever the spec
    was) and resolves them where the original spec was: the ``spec_dir`` of the
    ``manifest.json`` beside it.
    """
    if isinstance(spec, Mapping):
        raw = _deep_copy(spec)
        directory = Path(source).resolve().parent if source else Path.cwd()
        source = source or "spec"
    else:
        path = Path(spec)
        raw, source, directory = read_toml(path), str(path), path.resolve().parent
        directory = _package_spec_dir(directory) or directory
    if base_dir is not None:
        directory = Path(base_dir)
    problems = apply_overrides(raw, overrides)
    if seed is not None:
        raw.setdefault("dataset", {})
        if isinstance(raw["dataset"], dict):
            raw["dataset"]["seed"] = seed
    parsed = None
    if not problems:
        parsed, problems = _structure_spec(raw, registry, source, directory)
    if problems:
        raise InputError(source, problems)
    assert parsed is not None
    return parsed


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _structure_spec(
    raw: dict[str, Any], registry: Registry, source: str, directory: Path
) -> tuple[Spec | None, list[Problem]]:
    problems: list[Problem] = []
    sections = registry.sections
    if any(name not in sections for name in CORE_NAMES):
        raise PluginError("the core plugin 'core' (medmgen.builtins) is not loaded")
    known = {"blocks", "thresholds", *sections}
    for key in raw:
        if key not in known:
            problems.append(Problem(key, "unknown section", "one of " + ", ".join(sorted(known)), key))

    values: dict[str, Any] = {}
    for name, section in sections.items():
        if name == "privacy" and name not in raw:
            values[name] = None
            continue
        obj, errs = structure(raw.get(name, {}), section.schema, name)
        problems += errs
        if obj is not None:
            problems += check_instance(obj, name)
        values[name] = obj

    blocks = _structure_blocks(raw.get("blocks"), registry, problems)
    thresholds = _structure_thresholds(raw.get("thresholds", {}), registry, problems)
    steps = _structure_privacy(values.get("privacy"), blocks, registry, problems)
    if problems:
        return None, problems
    return (
        Spec(
            dataset=values["dataset"],
            blocks=blocks,
            thresholds=thresholds,
            feedback=values["feedback"],
            privacy=values["privacy"],
            privacy_steps=steps,
            sections={n: v for n, v in values.items() if n not in CORE_NAMES},
            source=source,
            directory=directory,
        ),
        [],
    )


def _structure_blocks(raw: Any, registry: Registry, problems: list[Problem]) -> dict[str, BlockSpec]:
    if raw is None:
        problems.append(Problem("blocks", "no blocks: a spec needs at least one [blocks.NAME] table"))
        return {}
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("blocks", "not a table of blocks", "[blocks.NAME] tables", raw))
        return {}
    blocks = {}
    modalities = registry.modalities()
    for name, table in raw.items():
        path = join("blocks", name)
        if not BLOCK_NAME.match(name):
            problems.append(Problem(path, "bad block name", "letters, digits, _ or -, starting with a letter", name))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(path, "not a table", "a table", table))
            continue
        modality = table.get("modality")
        if not isinstance(modality, str):
            problems.append(Problem(join(path, "modality"), "missing or not a string",
                                    "one of " + ", ".join(modalities) if modalities else "an installed modality",
                                    modality))
            continue
        if modality not in modalities:
            problems.append(Problem(join(path, "modality"), "unknown modality (is its plugin installed?)",
                                    "one of " + ", ".join(modalities) if modalities else "an installed modality",
                                    modality))
            continue
        gname = table.get("generator", "")
        gen = registry.generator(modality, gname) if isinstance(gname, str) else None
        if gen is None:
            problems.append(Problem(join(path, "generator"), f"unknown generator for modality {modality!r}",
                                    "one of " + ", ".join(registry.generator_names(modality)), gname))
            continue
        table = {**table, "generator": gen.name}
        obj, errs = structure(table, gen.config, path)
        problems += errs
        if obj is not None:
            problems += check_instance(obj, path)
            blocks[name] = obj
    return blocks


def _structure_thresholds(raw: Any, registry: Registry, problems: list[Problem]) -> dict[str, float]:
    known = registry.thresholds()
    if not isinstance(raw, dict):
        problems.append(Problem("thresholds", "not a table", "a table", raw))
        return {}
    out = {name: t.default for name, t in known.items()}
    for key, value in raw.items():
        path = join("thresholds", key)
        if key not in known:
            problems.append(Problem(path, "unknown threshold", "one of " + ", ".join(sorted(known)), key))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(path, "wrong type", "a number", value))
        elif value < 0:
            problems.append(Problem(path, "out of range", ">= 0", value))
        else:
            out[key] = float(value)
    return out


def _structure_privacy(
    privacy: PrivacySection | None, blocks: Mapping[str, BlockSpec], registry: Registry, problems: list[Problem]
) -> list[PrivacyStep]:
    if privacy is None:
        return []
    steps = []
    for i, step in enumerate(privacy.steps):
        path = f"privacy.steps[{i}]"
        name = step.get("mechanism")
        mech = registry.mechanisms.get(name) if isinstance(name, str) else None
        if mech is None:
            problems.append(Problem(join(path, "mechanism"), "unknown privacy mechanism",
                                    "one of " + (", ".join(sorted(registry.mechanisms)) or "(none installed)"), name))
            continue
        obj, errs = structure(step, mech.config, path)
        problems += errs
        if obj is None:
            continue
        problems += check_instance(obj, path)
        if obj.block not in blocks:
            problems.append(Problem(join(path, "block"), "no such block", "one of " + ", ".join(blocks), obj.block))
        steps.append(obj)
    return steps
