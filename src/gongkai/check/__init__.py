"""Report (+ last year's) → findings, by the rules of the report's format."""

from gongkai.check.engine import CHECKS, SEVERITY_ORDER, check_report

__all__ = ["CHECKS", "SEVERITY_ORDER", "check_report"]
