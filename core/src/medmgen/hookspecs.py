"""The six hook families of MEDM-GEN, one per layer.

Each hook *registers classes*: it returns a list of classes and the core calls their
methods. Hooks are called once per plugin at load time, with keyword arguments, and
all results are kept (no ``firstresult``). An implementation may accept a subset of a
hook's arguments, so hooks can gain arguments without breaking plugins.

A plugin is a module (or object) listed under the ``medmgen`` entry-point group::

    [project.entry-points.medmgen]
    mything = "mything.plugin"

and implements any of these with ``@medmgen.hookimpl``.
"""

from __future__ import annotations

import pluggy

PROJECT = "medmgen"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def medmgen_spec_sections() -> list:
    """Top-level spec tables this plugin adds.

    :return: a list of :class:`medmgen.interfaces.Section` (name, frozen attrs schema,
        doc). The table ``[NAME]`` of a spec is structured with the schema and its
        problems are reported with key paths.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


@hookspec
def medmgen_ledger_kinds() -> list:
    """Ledger record kinds this plugin defines.

    :return: a list of frozen attrs subclasses of :class:`medmgen.ledger.Pattern`, each
        with a unique ``kind``. ``ledger.json`` records of that kind are read back into
        it; its fields are documented in ``docs/ledger.md``.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


@hookspec
def medmgen_generators() -> list:
    """Generators this plugin provides.

    :return: a list of subclasses of :class:`medmgen.interfaces.Generator`. The pair
        ``(modality, name)`` must be unique; the class's ``config`` is the schema of
        the ``[blocks.NAME]`` tables it handles.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


@hookspec
def medmgen_repairers() -> list:
    """Constraint checkers and repairers this plugin provides.

    :return: a list of subclasses of :class:`medmgen.interfaces.Repairer`, run after
        each generation pass on blocks of their ``modalities`` where ``applies()``.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


@hookspec
def medmgen_evaluators() -> list:
    """Evaluators this plugin provides.

    :return: a list of subclasses of :class:`medmgen.interfaces.Evaluator`. Their
        ``thresholds`` become valid keys of the spec's ``[thresholds]`` table.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


@hookspec
def medmgen_privacy() -> list:
    """Privacy mechanisms this plugin provides.

    :return: a list of subclasses of :class:`medmgen.interfaces.Mechanism`. Each
        declares its zCDP cost from its parameters, so the budget is checked before
        any data is read.

    Called once per plugin at load; all results are kept. Since 0.1.
    """


HOOKS = (
    "medmgen_spec_sections",
    "medmgen_ledger_kinds",
    "medmgen_generators",
    "medmgen_repairers",
    "medmgen_evaluators",
    "medmgen_privacy",
)
