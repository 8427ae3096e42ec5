"""Pure estimation engine for the civic scientific-literacy survey (no Django).

Scoring, design-based estimation (stratified cluster designs, with-replacement Taylor
linearisation), raking and domain estimates that match R's ``survey`` package.  See
docs/survey-engine.md.

    >>> from kepu.survey.engine import load_table, Design, rake, estimate
    >>> data = load_table("sample.csv")
    >>> design = Design(data, weights="weight", strata="stratum", psu="psu")
    >>> raked = rake(design, {"sex": {1: 5.2e8, 2: 4.9e8}, ...})
    >>> rows = estimate(raked.design, "literate", by=["province", ("province", "group")])
"""

from .design import LONELY_PSU_OPTIONS, Design
from .errors import RakingError, SurveyError
from .estimation import Estimate, estimate
from .raking import MarginReport, RakeResult, rake
from .scoring import (
    NATIONAL_SCHEME,
    Band,
    Dimension,
    Item,
    Questionnaire,
    ScoreResult,
    ScoringScheme,
    encode_answers,
    load_questionnaire,
    score,
)
from .synth import synth, write_synth
from .tableio import factorize, load_margins, load_table

__version__ = "1.0"

__all__ = [
    "LONELY_PSU_OPTIONS",
    "NATIONAL_SCHEME",
    "Band",
    "Design",
    "Dimension",
    "Estimate",
    "Item",
    "MarginReport",
    "Questionnaire",
    "RakeResult",
    "RakingError",
    "ScoreResult",
    "ScoringScheme",
    "SurveyError",
    "__version__",
    "encode_answers",
    "estimate",
    "factorize",
    "load_margins",
    "load_questionnaire",
    "load_table",
    "rake",
    "score",
    "synth",
    "write_synth",
]
