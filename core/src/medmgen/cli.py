"""The ``medmgen`` command line (see the contract in ``docs/cli.md``).

Exit codes: 0 ok, 1 thresholds not met / reproduction differs, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_THRESHOLDS, EXIT_INPUT = 0, 1, 2


def _global_options(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("--debug", action="store_true", default=default, help="show tracebacks")
    p.add_argument("--strict", action="store_true", default=default, help="a plugin that fails to load is an error")
    p.add_argument("-q", "--quiet", action="store_true", default=default, help="print nothing but errors")
    p.add_argument("-v", "--verbose", action="store_true", default=default, help="print more detail")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medmgen", description="Synthetic benchmark datasets with ground truth.")
    _global_options(p, False)
    p.add_argument("--version", action="store_true", help="print the version and exit")
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)  # also accepted after the command
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add = sub.add_parser
    sub.add_parser = lambda *a, **kw: _add(*a, parents=[common], **kw)  # type: ignore[method-assign]

    s = sub.add_parser("plugins", help="list installed plugins and what they register")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("validate", help="check a spec and plan it; print every problem with its key path")
    s.add_argument("spec", type=Path)
    s.add_argument("--seed", type=int, help="root seed to plan with (random patterns depend on it)")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    s = sub.add_parser("generate", help="make the dataset package a spec describes")
    s.add_argument("spec", type=Path)
    s.add_argument("-o", "--out", type=Path, required=True, help="package directory to create")
    s.add_argument("--seed", type=int, help="root seed (overrides dataset.seed)")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one spec key by dotted path, e.g. --set dataset.seed=7")
    s.add_argument("--workers", type=_workers, default=1, help="parallel workers (output does not depend on it)")
    s.add_argument("--force", action="store_true", help="replace an existing output directory")

    s = sub.add_parser("evaluate", help="re-run the evaluators on a package")
    s.add_argument("directory", type=Path)
    s.add_argument("--against", type=Path, help="a real data file to compare with")
    s.add_argument("--json", action="store_true", help="print metrics as JSON")

    s = sub.add_parser("reproduce", help="regenerate a package from its manifest and compare hashes")
    s.add_argument("directory", type=Path)
    s.add_argument("-o", "--out", type=Path, required=True)
    s.add_argument("--force", action="store_true")

    s = sub.add_parser("compare", help="one spec through several generators")
    s.add_argument("spec", type=Path)
    s.add_argument("--generators", required=True, help="comma-separated generator names")
    s.add_argument("-o", "--out", type=Path, required=True)
    s.add_argument("--seed", type=int)
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    s.add_argument("--force", action="store_true")

    s = sub.add_parser("schema", help="print the JSON Schema of the full spec")

    s = sub.add_parser("fit", help="learn a spec from a real data file")
    s.add_argument("modality")
    s.add_argument("source", type=Path)
    s.add_argument("-o", "--out", type=Path, help="write the spec here (default: stdout)")
    s.add_argument("--name", default="fitted", help="block name in the written spec")
    return p


def _workers(text: str) -> int:
    """``--workers``: an integer >= 1 (argparse reports anything else, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from medmgen import __version__

        print(__version__)
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    from medmgen.errors import MedmgenError

    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            elif not args.debug:  # one plain line per warning; --debug keeps Python's file:line form
                warnings.showwarning = _show_warning
            return _COMMANDS[args.command](args)
    except MedmgenError as exc:
        if args.debug:
            traceback.print_exc()
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("medmgen: interrupted; nothing was written", file=sys.stderr)
        return 130


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _registry(args: argparse.Namespace) -> Any:
    from medmgen.plugins import load_registry

    return load_registry(strict=args.strict)


def _say(args: argparse.Namespace, *lines: str) -> None:
    if not args.quiet:
        for line in lines:
            print(line)


def cmd_plugins(args: argparse.Namespace) -> int:
    import attrs

    from medmgen.plugins import load_registry

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = load_registry()
    if args.json:
        print(json.dumps([attrs.asdict(p) | {"ok": p.ok} for p in reg.plugins], indent=1))
        return EXIT_OK
    for p in reg.plugins:
        head = f"{p.name} ({p.distribution or 'not installed'} {p.version or ''})".replace(" )", ")")
        if not p.ok:
            print(f"{head}: FAILED: {p.error}")
            continue
        print(head)
        for hook, names in p.registers.items():
            print(f"  {hook}: {', '.join(names)}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from medmgen.pipeline import plan_all
    from medmgen.privacy import check_budget
    from medmgen.spec import load_spec

    reg = _registry(args)
    spec = load_spec(args.spec, reg, overrides=args.overrides, seed=args.seed)
    check_budget(spec, reg.mechanisms, spec.source)
    _, plans = plan_all(spec, reg)  # reads sources, draws random patterns, checks they can fit
    for name, plan in plans.items():
        records = getattr(spec.blocks[name], "records", None)
        unplantable = [p.id for p in plan if p.quantity == "support" and isinstance(records, int)
                       and (p.target() or 0.0) * records < 1.0]
        if unplantable:
            warnings.warn(f"{args.spec}:blocks.{name}: {len(unplantable)} pattern(s) have support x records < 1, "
                          f"so no record can carry them (e.g. {unplantable[0]}); raise records or support",
                          stacklevel=1)
    _say(args, f"{args.spec}: ok ({len(spec.blocks)} block(s): "
         + ", ".join(f"{n} [{b.modality}/{b.generator}, {len(plans[n])} planned]" for n, b in spec.blocks.items())
         + ")")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from medmgen.dataset import generate
    from medmgen.progress import progress_for
    from medmgen.report import summary_lines

    reg = _registry(args)
    with progress_for(args.quiet) as progress:
        ds = generate(args.spec, seed=args.seed, out=args.out, overrides=args.overrides, workers=args.workers,
                      force=args.force, registry=reg, progress=progress)
    _say(args, *summary_lines(ds, args.out))
    if args.verbose and not args.quiet:
        for it in ds.report["iterations"]:
            devs = ", ".join(f"{q} {v:.3g}" for q, v in sorted(it["max_deviation"].items()))
            held = "hold" if it["held"] else "not met"
            print(f"  pass {it['iteration'] + 1}: max deviation {devs or '-'}; thresholds {held}")
        for stage, cost in ds.report["cost"]["stages"].items():
            print(f"  {stage}: {cost['wall_s']:.2f} s, peak RSS {cost['peak_rss_mb']:.0f} MB")
    return EXIT_OK if ds.passed else EXIT_THRESHOLDS


def cmd_evaluate(args: argparse.Namespace) -> int:
    from medmgen.block_tables import LazyTables, ParquetParts
    from medmgen.dataset import load
    from medmgen.errors import InputError, Problem
    from medmgen.interfaces import Evaluation
    from medmgen.package import block_files, read_json, verify_package
    from medmgen.pipeline import check_thresholds, evaluate_all

    reg = _registry(args)
    if args.against is not None and not args.against.exists():
        raise InputError.one(str(args.against), "--against", "file not found")
    ds = load(args.directory, registry=reg)
    missing = [d for d in verify_package(args.directory, read_json(args.directory / "manifest.json"), hashes=False)
               if d.endswith("missing")]
    if missing:
        raise InputError(str(args.directory), [Problem(d.split(":")[0], "listed in manifest.json, missing",
                                                       "the package's files", "no such file") for d in missing])
    tables = LazyTables({b: ParquetParts(files) for b, files in block_files(args.directory).items()})
    metrics = evaluate_all(reg, Evaluation(spec=ds.spec, ledger=ds.ledger, tables=tables, against=args.against,
                                           block_metrics=ds.report.get("metrics", {}).get("blocks", {})))
    checks = check_thresholds(ds.spec, reg, metrics)
    if args.json:
        print(json.dumps({"metrics": metrics, "thresholds": checks}, indent=1, default=str))
        return EXIT_OK
    for ev, values in metrics.items():
        _say(args, f"{ev}:")
        for k, v in values.items():
            if isinstance(v, int | float | str):
                _say(args, f"  {k}: {v:.6g}" if isinstance(v, float) else f"  {k}: {v}")
    for c in checks:
        if c["measured"]:
            _say(args, f"[{'ok  ' if c['held'] else 'FAIL'}] {c['name']}: {c['value']:.6g} {c['op']} {c['limit']}")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from medmgen.dataset import generate
    from medmgen.package import compare_manifests, read_json, spec_dir_of, verify_package

    reg = _registry(args)
    original = read_json(args.directory / "manifest.json")
    damaged = verify_package(args.directory, original)
    generate(args.directory / "spec.toml", out=args.out, registry=reg, force=args.force,
             base_dir=spec_dir_of(args.directory))
    new = read_json(args.out / "manifest.json")
    for key, entry in original.get("inputs", {}).items():
        now = new.get("inputs", {}).get(key, {}).get("sha256")
        if entry.get("sha256") != now:
            _say(args, f"note: input {key} = {entry.get('path')} has changed since the original run")
    notes = [f"{k}: {original.get(k)} -> {new.get(k)}" for k in ("medmgen", "numpy", "numba", "pyarrow")
             if original.get(k) != new.get(k)]
    diffs = compare_manifests(original, new)
    if damaged:
        _say(args, f"{args.directory} no longer matches its own manifest.json:", *(f"  {d}" for d in damaged))
    if diffs or damaged:
        if diffs:
            _say(args, f"reproduction differs in {len(diffs)} file(s):", *(f"  {d}" for d in diffs))
        if notes:
            _say(args, "versions changed:", *(f"  {n}" for n in notes))
        return EXIT_THRESHOLDS
    _say(args, f"identical: {len(new['files'])} files reproduced byte for byte in {args.out}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from medmgen.compare import compare
    from medmgen.progress import progress_for

    names = [g.strip() for g in args.generators.split(",") if g.strip()]
    reg = _registry(args)
    with progress_for(args.quiet) as progress:
        rows = compare(args.spec, names, args.out, reg, seed=args.seed, overrides=args.overrides,
                       force=args.force, progress=progress)
    _say(args, (args.out / "compare.md").read_text().rstrip(),
         f"wrote {args.out}/compare.{{md,csv,html,json}} and one package per generator")
    del rows
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from medmgen.schema import spec_schema

    print(json.dumps(spec_schema(_registry(args)), indent=1))
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    import tomli_w

    from medmgen.errors import InputError

    reg = _registry(args)
    gens = [g for (m, _), g in sorted(reg.generators.items())
            if m == args.modality and g.fit_block.__func__ is not _base_fit()]
    if not gens:
        raise InputError.one("medmgen fit", "modality", "no installed generator of this modality can fit",
                             "one of " + ", ".join(reg.modalities()), args.modality)
    gen = next((g for g in gens if g.default), gens[0])
    if not args.source.exists():
        raise InputError.one(str(args.source), "", "file not found")
    block = gen.fit_block(args.source)
    if isinstance(block.get("source"), str) and not Path(block["source"]).is_absolute():
        here = (args.out.parent if args.out else Path.cwd()).resolve()  # source resolves against the spec's dir
        block["source"] = os.path.relpath(Path(block["source"]).resolve(), here)
    spec = {"dataset": {"name": args.name, "seed": 0}, "blocks": {args.name: block}}
    text = tomli_w.dumps(spec)
    if args.out:
        args.out.write_text(text)
        _say(args, f"wrote {args.out}")
    else:
        print(text, end="")
    return EXIT_OK


def _base_fit() -> Any:
    from medmgen.interfaces import Generator

    return Generator.fit_block.__func__  # type: ignore[attr-defined]


_COMMANDS = {
    "plugins": cmd_plugins,
    "validate": cmd_validate,
    "generate": cmd_generate,
    "evaluate": cmd_evaluate,
    "reproduce": cmd_reproduce,
    "compare": cmd_compare,
    "schema": cmd_schema,
    "fit": cmd_fit,
}

if __name__ == "__main__":
    sys.exit(main())
