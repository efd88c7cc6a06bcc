"""Forecast: per-category rates, paired statistics and reports, from a run's grades.

Graders write one :class:`SampleGrade` per replayed sample to ``grades.jsonl``
(:func:`write_grades`); :func:`compute_forecast` turns them into a :class:`Forecast` and
:func:`write_report` into a self-contained HTML report. See docs/forecast.md.
"""

from deploysim.forecast._errors import ForecastInputError
from deploysim.forecast._forecast import (
    DIRECTION_RULE,
    call_direction,
    category_seed,
    compute_forecast,
)
from deploysim.forecast._html import DEFAULT_MAX_SAMPLES, render_html, write_report
from deploysim.forecast._load import (
    GRADES_FILENAME,
    GradesRun,
    grades_path,
    load_grades,
    write_grades,
)
from deploysim.forecast._model import Arm, CategoryHit, ProvenanceCounts, SampleGrade
from deploysim.forecast._production import (
    CHANGE_THRESHOLD,
    PRODUCTION_COLUMNS,
    ProductionRate,
    compare_production,
    load_production,
)
from deploysim.forecast._result import (
    ArmCounts,
    ArmModels,
    CategoryForecast,
    CategoryProvenance,
    Direction,
    Forecast,
    ForecastSettings,
    InfrastructureFailures,
    PairedComparison,
    ProductionCategory,
    ProductionComparison,
    RateEstimate,
)
from deploysim.forecast._samples import FlaggedSample, flagged_samples
from deploysim.forecast._stats import (
    Interval,
    PairedUnit,
    bootstrap_ratio_ci,
    fisher_exact,
    jeffreys_rate,
    mcnemar_exact,
)
from deploysim.forecast._terminal import forecast_notes, forecast_table, production_table

__all__ = [
    "CHANGE_THRESHOLD",
    "DEFAULT_MAX_SAMPLES",
    "DIRECTION_RULE",
    "GRADES_FILENAME",
    "PRODUCTION_COLUMNS",
    "Arm",
    "ArmCounts",
    "ArmModels",
    "CategoryForecast",
    "CategoryHit",
    "CategoryProvenance",
    "Direction",
    "FlaggedSample",
    "Forecast",
    "ForecastInputError",
    "ForecastSettings",
    "GradesRun",
    "InfrastructureFailures",
    "Interval",
    "PairedComparison",
    "PairedUnit",
    "ProductionCategory",
    "ProductionComparison",
    "ProductionRate",
    "ProvenanceCounts",
    "RateEstimate",
    "SampleGrade",
    "bootstrap_ratio_ci",
    "call_direction",
    "category_seed",
    "compare_production",
    "compute_forecast",
    "fisher_exact",
    "flagged_samples",
    "forecast_notes",
    "forecast_table",
    "grades_path",
    "jeffreys_rate",
    "load_grades",
    "load_production",
    "mcnemar_exact",
    "production_table",
    "render_html",
    "write_grades",
    "write_report",
]
