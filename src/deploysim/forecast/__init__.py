"""Forecast: per-category rates, paired statistics, reports (issue: graders and forecast)."""
