"""Headless LibreOffice, run without a shell, to turn workbooks into PDF or recalculated xlsx."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

# Filter names as LibreOffice's --convert-to wants them. They go into argv as one element, so the
# quotes a shell would need around "Calc MS Excel 2007 XML" must not be there.
_FILTERS = {"pdf": "pdf", "xlsx": "xlsx:Calc MS Excel 2007 XML"}

# LibreOffice keeps the cached formula results of an xlsx or ods file by default (mode 1, "never
# recalculate"), so a wrong cached value written by xlsxwriter would survive a conversion unseen.
# Mode 0 recalculates every formula on load. The Dutch locale makes a PDF show € 34.266,00 and
# 26,15 % as a Dutch Excel would, whatever the machine's own locale.
RECALC_SETTINGS = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N">\
<prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>nl-NL</value></prop></item>
</oor:items>
"""

NOT_INSTALLED = "LibreOffice is niet geïnstalleerd; installeer het om PDF's te maken"


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing, hung or made no file; the message is Dutch and says what to do."""


def find_soffice() -> Path | None:
    """The LibreOffice program: on the PATH, else where the installers put it; None if absent."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for candidate in _install_locations():
        if candidate.is_file():
            return candidate
    return None


def _install_locations() -> list[Path]:
    # The Windows installer does not put LibreOffice on the PATH, and neither does the macOS app.
    if os.name == "nt":
        roots = [
            os.environ.get("ProgramFiles", r"C:\Program Files"),
            os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)"),
            r"C:\Program Files",
            r"C:\Program Files (x86)",
        ]
        return [Path(root) / "LibreOffice" / "program" / "soffice.exe" for root in roots]
    if sys.platform == "darwin":
        return [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    return []


def convert(source: Path, target_dir: Path, to: str, *, timeout: float = 180) -> Path:
    """Convert `source` to `to` ("pdf" or "xlsx") in `target_dir`, every formula recalculated;
    returns the new file, named like `source` with the new suffix."""
    return convert_all([source], target_dir, to, timeout=timeout)[0]


def convert_all(
    sources: Sequence[Path], target_dir: Path, to: str, *, timeout: float = 180
) -> list[Path]:
    """Convert several files with one LibreOffice start (each start costs about a second)."""
    if to not in _FILTERS:
        raise ValueError(f"unknown target format {to!r}; expected one of {sorted(_FILTERS)}")
    sources = [Path(source).resolve() for source in sources]
    target_dir = Path(target_dir).resolve()
    targets = [target_dir / f"{source.stem}.{to}" for source in sources]
    for source, target in zip(sources, targets, strict=True):
        if target == source:
            raise ValueError(f"converting {source} into {target_dir} would overwrite it")
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError(NOT_INSTALLED)

    # A fresh profile per run: no user's settings leak in, our recalculation setting always
    # applies, and a running LibreOffice (which would swallow the job) is never reused.
    # Cleanup errors are ignored because on Windows a lingering soffice.bin may still hold files.
    with tempfile.TemporaryDirectory(prefix="inkoopkracht-lo-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        profile, outdir = work / "profile", work / "out"
        (profile / "user").mkdir(parents=True)
        outdir.mkdir()
        (profile / "user" / "registrymodifications.xcu").write_text(
            RECALC_SETTINGS, encoding="utf-8"
        )
        command = [
            str(soffice),
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            _FILTERS[to],
            # A private output folder: a stale file of the same name in target_dir can never be
            # mistaken for this run's result.
            "--outdir",
            str(outdir),
            *(str(source) for source in sources),
        ]
        # CI runs as root without a writable home; LibreOffice wants one for its caches.
        env = {**os.environ, "HOME": str(work)}
        log = _run(command, env, work, timeout * len(sources))
        target_dir.mkdir(parents=True, exist_ok=True)
        for source, target in zip(sources, targets, strict=True):
            produced = outdir / target.name
            if not produced.is_file() or produced.stat().st_size == 0:
                raise LibreOfficeError(
                    f"LibreOffice heeft van {source.name} geen {to}-bestand gemaakt; "
                    "controleer of het bestand te openen is. Uitvoer van LibreOffice: "
                    f"{log or '(geen)'}"
                )
            shutil.move(produced, target)
    return targets


def _run(command: list[str], env: dict[str, str], work: Path, timeout: float) -> str:
    """Run LibreOffice, killing its whole process tree on timeout; returns what it reported."""
    # Output goes to a file, not a pipe: soffice.bin is a grandchild of the launcher, and a
    # grandchild left holding a pipe would make waiting for the output hang past any timeout.
    log_path = work / "soffice.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            shell=False,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Its own session (POSIX), so a timeout can end the launcher and soffice.bin together.
            start_new_session=os.name != "nt",
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            raise LibreOfficeError(
                f"LibreOffice reageerde niet binnen {timeout:g} seconden en is gestopt; "
                "probeer het opnieuw, en lukt het dan niet, open het bestand zelf in LibreOffice"
            ) from None
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    # Its own "Error:" lines say why; the javaldx warning it prints on every run does not.
    errors = [line for line in lines if line.startswith("Error")]
    return " ".join(errors or lines)[-500:]


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    if os.name == "nt":
        # taskkill /T is Windows' own way to end a process with its children; still no shell.
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(process.pid)],
            shell=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        process.kill()
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
