"""Plugin discovery and the registry: a typed facade over the pluggy manager.

Plugins are found through the ``medmgen`` entry-point group, the core's own defaults
included. A plugin that fails to import, has a misspelt or mis-typed hook, raises in a
hook or registers something invalid is recorded as failed with the reason; the others
still load. ``strict=True`` turns any failure into an error.

``MEDMGEN_PLUGINS=a,b`` limits loading to the named entry points (``core`` is always
loaded).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pluggy
from attrs import define, frozen

from medmgen import hookspecs
from medmgen.errors import PluginError
from medmgen.interfaces import BlockSpec, Evaluator, Generator, Mechanism, PrivacyStep, Repairer, Section
from medmgen.ledger import Pattern

_EXPECTED: dict[str, type] = {
    "medmgen_spec_sections": Section,
    "medmgen_ledger_kinds": Pattern,
    "medmgen_generators": Generator,
    "medmgen_repairers": Repairer,
    "medmgen_evaluators": Evaluator,
    "medmgen_privacy": Mechanism,
}


@frozen(kw_only=True)
class PluginInfo:
    """One plugin as ``medmgen plugins`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    registers: dict[str, list[str]] = attrs.field(factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@define
class Registry:
    """Everything the installed plugins registered, by name."""

    generators: dict[tuple[str, str], type[Generator]] = attrs.field(factory=dict)
    kinds: dict[str, type[Pattern]] = attrs.field(factory=dict)
    repairers: dict[str, type[Repairer]] = attrs.field(factory=dict)
    evaluators: dict[str, type[Evaluator]] = attrs.field(factory=dict)
    mechanisms: dict[str, type[Mechanism]] = attrs.field(factory=dict)
    sections: dict[str, Section] = attrs.field(factory=dict)
    plugins: list[PluginInfo] = attrs.field(factory=list)

    # ---------------------------------------------------------------- queries
    def modalities(self) -> list[str]:
        return sorted({m for m, _ in self.generators})

    def generator_names(self, modality: str) -> list[str]:
        return sorted(n for m, n in self.generators if m == modality)

    def default_generator(self, modality: str) -> type[Generator] | None:
        found = [g for (m, _), g in sorted(self.generators.items()) if m == modality]
        for g in found:
            if g.default:
                return g
        return found[0] if len(found) == 1 else None

    def generator(self, modality: str, name: str) -> type[Generator] | None:
        if not name:
            return self.default_generator(modality)
        return self.generators.get((modality, name))

    def thresholds(self) -> dict[str, Any]:
        out = {}
        for ev in self.evaluators.values():
            for t in ev.thresholds:
                out[t.name] = t
        return out

    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins if not p.ok]


def _entry_points() -> list[md.EntryPoint]:
    eps = sorted(md.entry_points(group=hookspecs.PROJECT), key=lambda e: (e.name != "core", e.name))
    only = os.environ.get("MEDMGEN_PLUGINS")
    if only:
        wanted = {"core", *(n.strip() for n in only.split(",") if n.strip())}
        eps = [e for e in eps if e.name in wanted]
    seen: set[str] = set()
    unique = []
    for e in eps:  # an editable and a regular install can list the same entry point twice
        if e.name not in seen:
            seen.add(e.name)
            unique.append(e)
    return unique


def load_registry(
    extra: Sequence[tuple[str, object]] = (), *, entry_points: bool = True, strict: bool = False
) -> Registry:
    """Load every installed plugin (and ``extra`` ``(name, plugin)`` pairs) into a registry."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    reg = Registry()
    candidates: list[tuple[str, str | None, str | None, Any]] = []
    if entry_points:
        for ep in _entry_points():
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else None
            try:
                obj = ep.load()
            except Exception as exc:
                reg.plugins.append(PluginInfo(name=ep.name, distribution=dist, version=version, error=_why(exc)))
                continue
            candidates.append((ep.name, dist, version, obj))
    for name, obj in extra:
        candidates.append((name, None, None, obj))
    for name, dist, version, obj in candidates:
        reg.plugins.append(_register(pm, reg, name, dist, version, obj))
    failed = reg.failures()
    if failed:
        text = "; ".join(f"{p.name}: {p.error}" for p in failed)
        if strict:
            raise PluginError(f"plugins failed to load: {text}")
        warnings.warn(f"medmgen: plugins failed to load and were skipped: {text}", stacklevel=2)
    return reg


def _why(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _register(
    pm: pluggy.PluginManager, reg: Registry, name: str, dist: str | None, version: str | None, obj: Any
) -> PluginInfo:
    info = {"name": name, "distribution": dist, "version": version}
    misspelt = [a for a in dir(obj) if a.startswith("medmgen_") and a not in hookspecs.HOOKS]
    if misspelt:
        return PluginInfo(**info, error=f"unknown hook {misspelt[0]!r} (known: {', '.join(hookspecs.HOOKS)})")
    try:
        pm.register(obj, name=name)
    except Exception as exc:
        return PluginInfo(**info, error=_why(exc))
    found: dict[str, list[type]] = {}
    try:
        for hook in hookspecs.HOOKS:
            impl = getattr(obj, hook, None)
            if impl is None:
                continue
            found[hook] = _call(hook, impl)
        staged = _stage(reg, found)
    except Exception as exc:
        pm.unregister(obj)
        return PluginInfo(**info, error=_why(exc))
    staged()
    registers = {
        hook.removeprefix("medmgen_"): [_label(item) for item in items] for hook, items in found.items() if items
    }
    return PluginInfo(**info, registers=registers)


def _call(hook: str, impl: Any) -> list:
    result = impl()
    if result is None:
        return []
    if not isinstance(result, Iterable):
        raise TypeError(f"{hook} must return a list, got {type(result).__name__}")
    items = list(result)
    base = _EXPECTED[hook]
    for item in items:
        ok = isinstance(item, base) if base is Section else isinstance(item, type) and issubclass(item, base)
        if not ok:
            raise TypeError(f"{hook} returned {item!r}, expected a {base.__name__}")
    return items


def _label(item: Any) -> str:
    if isinstance(item, Section):
        return item.name
    if isinstance(item, type) and issubclass(item, Generator):
        return f"{item.modality}/{item.name}"
    if isinstance(item, type) and issubclass(item, Pattern):
        return item.kind
    return getattr(item, "name", repr(item))


def _stage(reg: Registry, found: dict[str, list]) -> Any:
    """Check a plugin's registrations against the registry; return a commit function."""
    gens = {}
    for g in found.get("medmgen_generators", []):
        for attr in ("modality", "name", "config"):
            if not hasattr(g, attr):
                raise TypeError(f"generator {g.__name__} has no {attr!r}")
        if not (attrs.has(g.config) and issubclass(g.config, BlockSpec)):
            raise TypeError(f"generator {g.__name__}.config must be an attrs subclass of BlockSpec")
        key = (g.modality, g.name)
        if key in reg.generators or key in gens:
            raise ValueError(f"generator {g.modality}/{g.name} is already registered")
        gens[key] = g
    kinds = {}
    for k in found.get("medmgen_ledger_kinds", []):
        if not k.kind or k.kind in reg.kinds or k.kind in kinds:
            raise ValueError(f"ledger kind {k.kind!r} is empty or already registered")
        kinds[k.kind] = k
    named: dict[str, dict[str, Any]] = {"repairers": {}, "evaluators": {}, "mechanisms": {}}
    for hook, table in (("medmgen_repairers", "repairers"), ("medmgen_evaluators", "evaluators"),
                        ("medmgen_privacy", "mechanisms")):
        for cls in found.get(hook, []):
            if cls.name in getattr(reg, table) or cls.name in named[table]:
                raise ValueError(f"{table[:-1]} {cls.name!r} is already registered")
            if table == "mechanisms" and not issubclass(cls.config, PrivacyStep):
                raise TypeError(f"mechanism {cls.name!r} config must extend PrivacyStep")
            named[table][cls.name] = cls
    sections = {}
    for s in found.get("medmgen_spec_sections", []):
        if s.name in reg.sections or s.name in sections or s.name in ("blocks", "thresholds"):
            raise ValueError(f"spec section {s.name!r} is already registered")
        sections[s.name] = s

    def commit() -> None:
        reg.generators.update(gens)
        reg.kinds.update(kinds)
        reg.repairers.update(named["repairers"])
        reg.evaluators.update(named["evaluators"])
        reg.mechanisms.update(named["mechanisms"])
        reg.sections.update(sections)

    return commit
