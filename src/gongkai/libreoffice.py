"""LibreOffice headless, the one way gongkai runs it: reading legacy Word files (read/office.py)
and printing PDFs (render/pdf.py).

Each run has its own temporary directory and LibreOffice profile, so runs side by side do not fight
over a profile lock or touch a user's open office, and runs in a session of its own, so a run that
overruns the timeout is killed with every process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = float(os.environ.get("GONGKAI_SOFFICE_TIMEOUT", 180))


class ConversionError(RuntimeError):
    """A conversion that failed; the message says why, in Chinese and English."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def lacks_calc() -> bool:
    """Whether the LibreOffice found is known to be without Calc, which reads workbooks (Debian splits
    it into packages: libreoffice-writer without libreoffice-calc is common). Unknown: False."""
    found = soffice()
    if found is None:
        return False
    program = Path(found).resolve().parent
    if not (program / "soffice.bin").exists():  # not a layout we know
        return False
    return not any(program.glob("libsclo.*"))


def convert(documents: list[tuple[str, bytes]], convert_to: str, timeout: float = TIMEOUT_SECONDS,
            import_filter: str | None = None) -> list[bytes]:
    """Documents given as (file name, bytes) converted in one run, in their order.

    convert_to is LibreOffice's --convert-to argument ("docx", "pdf", or "pdf:writer_pdf_Export:{…}"
    with export options); import_filter names the filter to read them with (a file LibreOffice does
    not recognise would otherwise be imported as plain text)."""
    program = soffice()
    if program is None:
        raise ConversionError("未找到 LibreOffice (soffice)，请安装 libreoffice-writer (LibreOffice is not installed)")
    stems = [Path(name).stem for name, _ in documents]
    if len(set(stems)) != len(stems):
        raise ConversionError("待转换的文件重名 (two documents with the same name)")
    extension = convert_to.partition(":")[0]
    with tempfile.TemporaryDirectory(prefix="gongkai-soffice-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        sources = []
        for name, data in documents:
            source = work / "in" / Path(name).name
            source.write_bytes(data)
            sources.append(source)
        out = work / "out"
        command = [program, "--headless", "--norestore", "--nologo", "--nolockcheck", "--nodefault",
                   f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   *([f"--infilter={import_filter}"] if import_filter else []),
                   "--convert-to", convert_to, "--outdir", str(out), *map(str, sources)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, "HOME": tmp})
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ConversionError(f"LibreOffice 转换超时（{timeout:g} 秒）(conversion timed out)") from exc
        results = [out / f"{source.stem}.{extension}" for source in sources]
        missing = [r.name for r in results if not r.is_file() or r.stat().st_size == 0]
        if process.returncode != 0 or missing:
            said = (stderr + stdout).decode("utf-8", "replace").strip().splitlines()
            errors = [line for line in said if "rror" in line]  # not the javaldx warning it always prints
            detail = (errors or said or [f"exit status {process.returncode}"])[-1]
            raise ConversionError(f"LibreOffice 转换失败 (conversion to {extension} failed: {detail})")
        return [r.read_bytes() for r in results]
