from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.fail(f"the shared seeds and spec are expected beside the project at {SHARED}")
    return SHARED


def parse_text(text: str, name: str = "report.txt"):
    from gongkai.parse import parse
    from gongkai.read.text import read_text

    return parse(read_text(text, name))
