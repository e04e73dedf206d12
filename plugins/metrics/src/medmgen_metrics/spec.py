"""The ``[evaluation]`` spec section: sampling and encoding settings shared by the evaluators."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from medmgen.errors import Problem
from medmgen.fields import setting
from medmgen.interfaces import Section


@frozen(kw_only=True)
class EvaluationSection:
    """``[evaluation]``: how real and synthetic tables are sampled, split and encoded."""

    seed: int = setting(0, doc="Seed of every sample, split and model of the evaluators.", ge=0, lt=2**32)
    max_rows: int = setting(10_000, doc="Rows sampled from each table for nearest-neighbour searches, the "
                                        "propensity model and privacy attacks (stated in the metrics).",
                            ge=100, le=10_000_000)
    mmd_rows: int = setting(2_000, doc="Rows sampled from each table for the MMD (its cost grows with the square).",
                            ge=50, le=20_000)
    holdout: str = setting("", doc="Real rows the generator never saw (CSV/Parquet, relative to the spec file); "
                                   "empty: a random holdout_fraction of the real table is held out.")
    holdout_fraction: float = setting(0.2, doc="Share of the real table held out when no holdout file is given.",
                                      gt=0, lt=1)
    categorical: list[str] = setting(factory=list, doc="Columns always treated as categorical.")
    categorical_levels: int = setting(50, doc="An integer column with at most this many distinct real values is "
                                              "categorical; text and boolean columns always are.", ge=1)
    levels: int = setting(100, doc="TVDs compare a column value by value when it has at most this many distinct "
                                   "values; otherwise on quantile bins of the real column.", ge=2)
    onehot_levels: int = setting(100, doc="A categorical column with more values than this is wide: counted for "
                                          "TVDs on the real table's values, but left out of associations and of "
                                          "every distance (MMD, privacy), which would one-hot encode it.", ge=2)
    bins: int = setting(20, doc="Quantile bins of a column with more than `levels` distinct values.", ge=2, le=1000)
    folds: int = setting(3, doc="Cross-validation folds of the propensity classifier.", ge=2, le=20)
    attacks: int = setting(500, doc="Attacks per Anonymeter-style risk (singling out, linkability, inference).",
                           ge=10, le=100_000)

    def check(self) -> Sequence[Problem]:
        if len(set(self.categorical)) != len(self.categorical):
            return [Problem("categorical", "a column is listed twice", "distinct names", self.categorical)]
        return []


SECTION = Section(name="evaluation", schema=EvaluationSection,
                  doc="Sampling, holdout and encoding settings of the fidelity, utility and privacy_risk evaluators.")


def settings(spec: object) -> EvaluationSection:
    """The spec's ``[evaluation]`` section, or the defaults if the spec has none."""
    found = getattr(spec, "sections", {}).get("evaluation")
    return found if isinstance(found, EvaluationSection) else EvaluationSection()
