"""Property test: mutated specs never crash, never write, and always name a key path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w
from coretest import TOY_SPEC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medmgen.cli import main

VALID = tomllib.loads(TOY_SPEC)
PATHS = [("dataset", "seed"), ("dataset", "name"), ("blocks", "flags", "records"), ("blocks", "flags", "rates"),
         ("blocks", "flags", "modality"), ("blocks", "flags", "generator"), ("blocks", "flags", "cap"),
         ("feedback", "max_iterations"), ("feedback", "gain"), ("thresholds", "max_support_deviation")]
JUNK = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5),
                 st.booleans(), st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                          st.integers(), max_size=2))


def mutate(spec: dict, path: tuple, value: object, extra_key: str | None) -> dict:
    import copy

    out = copy.deepcopy(spec)
    node = out
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    if extra_key:
        out["blocks"]["flags"][extra_key] = 1
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=JUNK, extra=st.one_of(st.none(), st.sampled_from(["colour", "sed", "x"])),
       toml_break=st.integers(0, 8))
def test_mutated_specs_fail_cleanly(tmp_path_factory, capsys, path, value, extra, toml_break):
    tmp = tmp_path_factory.mktemp("m")
    spec_path = tmp / "spec.toml"
    text = tomli_w.dumps(mutate(VALID, path, value, extra))
    if toml_break == 0:
        text = text.replace("]", "", 1)  # broken TOML
    spec_path.write_text(text)
    out_dir = tmp / "out"
    code = main(["--quiet", "generate", str(spec_path), "-o", str(out_dir), "--set", "blocks.flags.records=50"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    if code == 2:
        assert not out_dir.exists(), "bad input must leave nothing on disk"
        assert not [p for p in Path(tmp).iterdir() if p.name.startswith(".out")], "no temporary left behind"
        assert err.startswith(f"{spec_path}"), err
        assert "Traceback" not in err
    else:
        assert (out_dir / "manifest.json").exists()
