"""Set-up on a fresh machine: scripts/install, then the README's first command exactly as written,
in a copy of this checkout, with only /usr/bin and /bin on PATH so that Debian's own python3 (with
its EXTERNALLY-MANAGED marker, PEP 668) is the Python the script finds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _first_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"Set up a fresh machine[^\n]*\n\n    (?P<command>[^\n]+)\n", readme)
    assert match, "README.md lost its first command"
    return match["command"]


def _checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.mark.skipif(not SYSTEM_PYTHON.exists() or shutil.which("git") is None, reason="needs /usr/bin/python3 and git")
def test_install_and_first_command_on_the_system_python(tmp_path: Path) -> None:
    recent = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"])
    if recent.returncode:
        pytest.skip("/usr/bin/python3 is older than 3.11")

    project = tmp_path / "gongkai"
    for name in _checkout_files():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # The README's command reads the seeds at ../shared, next to the project.
    (tmp_path / "shared").symlink_to((ROOT.parent / "shared").resolve())

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "GONGKAI_BIN_DIR": str(tmp_path / "bin"),
    }
    for name in ("PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        if name in os.environ:
            env[name] = os.environ[name]
    run = subprocess.run(
        ["bash", "-c", _first_command()], cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    # Every seed's tables came out, one titled block per report.
    seeds = list((ROOT.parent / "shared" / "seeds").glob("*.txt"))
    assert run.stdout.count("格式 20") == len(seeds) > 0, run.stdout[:2000]
    assert "主动公开政府信息情况" in run.stdout
    assert (project / ".venv" / "bin" / "gongkai").exists()
    assert (tmp_path / "bin" / "gongkai").resolve() == (project / ".venv" / "bin" / "gongkai").resolve()
