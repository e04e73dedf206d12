"""Custom constraints: ``kind = "custom"`` dispatching to a third party's class found by its entry point."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import medmgen
import medmgen.builtins
from medmgen.errors import InputError
from medmgen_tabular import custom

THIRD_PARTY = '''
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medmgen.errors import Problem
from medmgen_tabular.custom import CustomConstraint


class MultipleOf(CustomConstraint):
    """``column`` must be a multiple of ``step``; repair rounds down to one."""

    name = "multiple_of"

    def check(self):
        step = self.params.get("step")
        if not isinstance(step, int) or step < 1:
            return [Problem("step", "must be a positive integer", ">= 1", step)]
        return []

    def columns(self):
        return [self.params["column"]]

    def violations(self, table):
        x = table.column(self.params["column"]).to_numpy(zero_copy_only=False)
        return x % self.params["step"] != 0

    def repair(self, table, bad, rng):
        name = self.params["column"]
        x = table.column(name).to_numpy(zero_copy_only=False)
        fixed = np.where(bad, x - x % self.params["step"], x)
        i = table.column_names.index(name)
        return table.set_column(i, name, pa.array(fixed).cast(table.schema.field(name).type))


class SumBelow(CustomConstraint):
    """``a + b < limit``, no repair of its own: violating rows are rejected and regenerated."""

    name = "sum_below"

    def columns(self):
        return ["a", "b"]

    def violations(self, table):
        s = pc.add(table.column("a"), table.column("b")).to_numpy(zero_copy_only=False)
        return s >= self.params["limit"]
'''


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Install a third-party distribution (module + entry points) on ``sys.path`` for this test."""
    (tmp_path / "acme_rules.py").write_text(THIRD_PARTY)
    info = tmp_path / "acme_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{custom.GROUP}]
        multiple_of = acme_rules:MultipleOf
        sum_below = acme_rules:SumBelow
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_rules", None)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    rng = np.random.default_rng(4)
    n = 1500
    df = pd.DataFrame({"a": rng.integers(0, 100, n), "b": rng.integers(0, 100, n), "g": rng.choice(["u", "v"], n)})
    path = tmp_path_factory.mktemp("src") / "ab.csv"
    df.to_csv(path, index=False)
    return path


def spec(path, constraints, generator="independent", **extra) -> dict:
    return {"dataset": {"seed": 9}, "blocks": {"t": {"modality": "tabular", "generator": generator,
                                                     "source": str(path), "constraints": constraints, **extra}}}


def test_custom_constraints_repair_and_reject(third_party, registry, source):
    cons = [{"kind": "custom", "name": "multiple_of", "params": {"column": "a", "step": 5}, "action": "recompute"},
            {"kind": "custom", "name": "sum_below", "params": {"limit": 120}}]
    with pytest.warns(UserWarning, match="source rows violate"):
        ds = medmgen.generate(spec(source, cons), registry=registry)
    out = ds.to_pandas("t")
    assert len(out) == 1500
    assert (out["a"] % 5 == 0).all() and (out["a"] + out["b"] < 120).all()
    (report,) = ds.report["metrics"]["blocks"]["t"]["repairs"]
    first, second = report["details"]["constraints"]
    assert first["action"] == "recompute" and first["repaired"] > 0
    assert second["action"] == "reject" and second["rejected"] > 0


def test_custom_constraints_hold_on_planted_blocks(third_party, registry):
    block = {"modality": "tabular", "generator": "planted", "records": 500, "numeric": 2, "categorical": [40],
             "constraints": [{"kind": "custom", "name": "multiple_of", "params": {"column": "c0", "step": 4},
                              "action": "recompute"}]}
    ds = medmgen.generate({"dataset": {"seed": 1}, "blocks": {"p": block}}, registry=registry)
    assert (ds.to_pandas("p")["c0"] % 4 == 0).all()


def test_unknown_names_bad_params_and_columns_are_spec_errors(third_party, registry, source, tmp_path):
    cons = [{"kind": "custom", "name": "nope"},
            {"kind": "custom", "name": "multiple_of", "params": {"column": "a", "step": 0}},
            {"kind": "custom", "name": "sum_below", "params": {"limit": 3}, "action": "recompute"},
            {"kind": "custom", "name": "multiple_of", "params": {"column": "zz", "step": 2}},
            {"kind": "custom", "name": "multiple_of", "params": {"step": 2}}]
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(source, cons), registry=registry, out=tmp_path / "o")
    paths = {p.path for p in err.value.problems}
    assert {"blocks.t.constraints[0].name", "blocks.t.constraints[1].params.step",
            "blocks.t.constraints[2].action", "blocks.t.constraints[4].params"} <= paths
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError) as err:
        medmgen.generate(spec(source, cons[3:4]), registry=registry)
    assert [p.path for p in err.value.problems] == ["blocks.t.constraints[0].params"]


def test_without_the_third_party_the_name_is_unknown(registry, source):
    with pytest.raises(InputError, match="no custom constraint registered"):
        medmgen.generate(spec(source, [{"kind": "custom", "name": "multiple_of"}]), registry=registry)
