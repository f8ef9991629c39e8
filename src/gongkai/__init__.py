"""gongkai: China's government information-disclosure annual reports as verified data."""

from gongkai.document import Document, LoadError
from gongkai.formats import Format, load_format
from gongkai.model import Cell, Finding, Provenance, Report

__version__ = "0.1.0"

__all__ = [
    "Cell",
    "Document",
    "Finding",
    "Format",
    "LoadError",
    "Provenance",
    "Report",
    "__version__",
    "load_format",
    "parse_file",
]


def parse_file(path: str, format_id: str | None = None) -> Report:
    """Load and parse one report file."""
    from gongkai.parse import parse_file as _parse_file

    return _parse_file(path, format_id)
