"""The double-click scripts: the .sh run end to end, the .cmd checked as text against the real CLI."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.money import format_euro

from .builders import BUDGET, ROOT, fingerprint, jaarplan_folder

SH = ROOT / "scripts" / "halfjaarafrekening.sh"
CMD = ROOT / "scripts" / "halfjaarafrekening.cmd"
SH_BIN = shutil.which("sh")
PROMPT = "Welke periode wilt u afrekenen (bijvoorbeeld 2024-H1, 2024-H2 of 2024)? "
INVOICED_H1 = (
    "Delft",
    "Leidschendam-Voorburg",
    "Midden-Delfland",
    "Pijnacker-Nootdorp",
    "Rijswijk",
    "Westland",
)
INVOICE_FILES_H1 = sorted(f"Factuur 2024-H1 {name}.xlsx" for name in INVOICED_H1)

needs_sh = pytest.mark.skipif(
    SH_BIN is None or os.name == "nt", reason="geen POSIX-shell (sh) op dit systeem"
)


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A drop folder as a coordinator has it: both workbooks plus the script copied beside them.

    The name holds a space and an ampersand, so quoting mistakes in the script show up.
    """
    folder = jaarplan_folder(tmp_path / "Afrekening 2024 & co")
    shutil.copy2(SH, folder / SH.name)
    return folder


@pytest.fixture
def opener(tmp_path: Path) -> tuple[Path, Path]:
    """Stand-ins for xdg-open (Linux) and open (macOS) that record what they were asked to open."""
    bin_dir = tmp_path / "opener-bin"
    bin_dir.mkdir()
    log = tmp_path / "geopend.log"
    for name in ("xdg-open", "open"):
        stub = bin_dir / name
        stub.write_text(
            f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {shlex.quote(str(log))}\n"
            'exit "${OPENER_EXIT:-0}"\n',
            encoding="utf-8",
        )
        stub.chmod(0o755)
    return bin_dir, log


def program_env(opener_bin: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with the test runner's own venv first on PATH (it has
    inkoopkracht-xl), the opener stand-ins before that, and no desktop unless asked."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = os.pathsep.join(
        [str(opener_bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    )
    env.update(extra)
    return env


def bare_env(tmp_path: Path, *, with_python3: bool) -> dict[str, str]:
    """A PATH holding only the tools the script needs (tr, uname), optionally a python3 that is
    the test runner's interpreter: no inkoopkracht-xl anywhere on it."""
    bin_dir = tmp_path / "bare-bin"
    bin_dir.mkdir()
    for tool in ("tr", "uname"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    if with_python3:
        wrapper = bin_dir / "python3"
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(bin_dir)
    return env


def run_sh(
    script: Path, *args: str, env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    assert SH_BIN is not None
    return subprocess.run(
        [SH_BIN, str(script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def invoice_files(folder: Path, period: str) -> list[str]:
    return sorted(p.name for p in (folder / "uitvoer" / period / "facturen").glob("*.xlsx"))


def expected_settlement(tmp_path: Path, period: str) -> dict:
    """The same settlement made directly with the CLI on a separate copy, as JSON."""
    other = jaarplan_folder(tmp_path / "rechtstreeks")
    result = CliRunner().invoke(main, ["afrekening", str(other), "--periode", period, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the .sh script, end to end ------------------------------------------------------------


@needs_sh
def test_sh_settles_the_folder_given_as_argument(drop, opener, tmp_path):
    bin_dir, opened = opener
    before = fingerprint(drop)

    result = run_sh(drop / SH.name, str(drop), "2024-H1", env=program_env(bin_dir), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    out = drop / "uitvoer" / "2024-H1"
    assert invoice_files(drop, "2024-H1") == INVOICE_FILES_H1
    assert (out / "overzicht-2024-H1.xlsx").is_file()
    assert f"Invoermap: {drop}\n" in result.stdout
    assert f"Afrekening 2024-H1 geschreven naar {out}\n" in result.stdout
    assert f"Klaar. De uitvoer staat in: {out}\n" in result.stdout
    # controleer ran first and approved, then the settlement.
    approved = result.stdout.index("Goedgekeurd: 0 fouten, 1 waarschuwing.")
    assert approved < result.stdout.index("Afrekening 2024-H1 geschreven naar")
    # The script shows exactly the settlement the program makes: every number, kind and total,
    # the penvoerder (Zoetermeer) with its own share and no invoice.
    expected = expected_settlement(tmp_path, "2024-H1")["facturen"]
    assert len(expected) == 7
    for entry in expected:
        number = entry["nummer"] or "-"
        line = re.search(
            rf"^  {re.escape(number)} +{entry['soort']} +{entry['gemeente']} +(.+)$",
            result.stdout,
            re.M,
        )
        assert line, entry
        assert line.group(1).strip() == format_euro(Decimal(entry["totaal"]))
    invoiced = [e for e in expected if e["nummer"]]
    assert sorted(e["gemeente"] for e in invoiced) == list(INVOICED_H1)
    assert [e["nummer"] for e in invoiced] == [f"IK-2024-{n:04d}" for n in range(1, 7)]
    assert [e["gemeente"] for e in expected if not e["nummer"]] == ["Zoetermeer"]
    # Inputs untouched (only the output folder is new); no desktop, so nothing was opened.
    after = fingerprint(drop)
    assert {k: v for k, v in after.items() if not k.startswith("uitvoer")} == before
    assert not opened.exists()


@needs_sh
def test_sh_asks_for_the_period_when_not_given(drop, opener, tmp_path):
    bin_dir, _ = opener
    result = run_sh(
        drop / SH.name, str(drop), env=program_env(bin_dir), cwd=tmp_path, stdin="2024-H1\n"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(PROMPT)
    assert invoice_files(drop, "2024-H1") == INVOICE_FILES_H1
    assert f"Klaar. De uitvoer staat in: {drop / 'uitvoer' / '2024-H1'}\n" in result.stdout


@needs_sh
def test_sh_defaults_to_its_own_folder_and_tidies_the_period(drop, opener, tmp_path):
    bin_dir, _ = opener
    elsewhere = tmp_path / "ergens-anders"
    elsewhere.mkdir()

    result = run_sh(drop / SH.name, env=program_env(bin_dir), cwd=elsewhere, stdin="  2024-h1 \n")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Invoermap: {drop}\n" in result.stdout
    assert invoice_files(drop, "2024-H1") == INVOICE_FILES_H1
    assert f"Klaar. De uitvoer staat in: {drop / 'uitvoer' / '2024-H1'}\n" in result.stdout
    assert list(elsewhere.iterdir()) == []


@needs_sh
def test_sh_invalid_period_gives_the_programs_dutch_message(drop, opener, tmp_path):
    bin_dir, opened = opener
    result = run_sh(
        drop / SH.name, str(drop), "2024-H3", env=program_env(bin_dir, DISPLAY=":0"), cwd=tmp_path
    )

    assert result.returncode == 1
    assert (
        "FOUT  --periode: '2024-H3' is geen periode; gebruik bijvoorbeeld 2024-H1, 2024-H2 of 2024."
        in result.stderr
    )
    assert "De afrekening 2024-H3 is niet gemaakt; zie de melding hierboven." in result.stderr
    assert "Klaar." not in result.stdout
    assert not (drop / "uitvoer" / "2024-H3").exists()
    assert not opened.exists()


@needs_sh
@pytest.mark.parametrize("answers", ["", "\n", "\n  \n\n"])
def test_sh_refuses_an_empty_period(drop, opener, tmp_path, answers):
    bin_dir, _ = opener
    result = run_sh(
        drop / SH.name, str(drop), env=program_env(bin_dir), cwd=tmp_path, stdin=answers
    )

    assert result.returncode == 2
    assert "FOUT  Geen periode ingevuld; er is niets gemaakt. Start het script opnieuw." in (
        result.stderr
    )
    assert "Stap 1" not in result.stdout
    assert not (drop / "uitvoer").exists()
    # Three tries at most, then it stops (never loops on closed input).
    assert result.stdout.count(PROMPT) == min(answers.count("\n") + 1, 3)


@needs_sh
def test_sh_stops_on_input_errors_before_the_settlement(drop, opener, tmp_path):
    bin_dir, _ = opener
    (drop / BUDGET).unlink()

    result = run_sh(drop / SH.name, str(drop), "2024-H1", env=program_env(bin_dir), cwd=tmp_path)

    assert result.returncode == 1
    assert "geen begroting gevonden" in result.stdout
    assert "Afgekeurd: 1 fout, 0 waarschuwingen." in result.stdout
    assert "Herstel de fouten en start opnieuw." in result.stderr
    assert "Stap 2" not in result.stdout
    assert not (drop / "uitvoer").exists()


@needs_sh
@pytest.mark.parametrize("opener_exit", ["0", "3"])
def test_sh_opens_the_output_on_a_desktop_and_never_fails_on_it(
    drop, opener, tmp_path, opener_exit
):
    bin_dir, opened = opener
    env = program_env(bin_dir, DISPLAY=":0", OPENER_EXIT=opener_exit)

    result = run_sh(drop / SH.name, str(drop), "2024-H1", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert opened.read_text(encoding="utf-8") == f"{drop / 'uitvoer' / '2024-H1'}\n"


@needs_sh
def test_sh_falls_back_to_python3_module(drop, tmp_path):
    result = run_sh(
        drop / SH.name,
        str(drop),
        "2024-H1",
        env=bare_env(tmp_path, with_python3=True),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert invoice_files(drop, "2024-H1") == INVOICE_FILES_H1


@needs_sh
def test_sh_without_the_program_says_how_to_install(drop, tmp_path):
    result = run_sh(
        drop / SH.name,
        str(drop),
        "2024-H1",
        env=bare_env(tmp_path, with_python3=False),
        cwd=tmp_path,
    )

    assert result.returncode == 1
    assert "FOUT  Het programma inkoopkracht-xl is niet gevonden." in result.stderr
    assert "README.md, 'Aan de slag'" in result.stderr
    assert "pip install -e ." in result.stderr
    assert not (drop / "uitvoer").exists()


@needs_sh
def test_sh_is_executable_posix_sh():
    text = SH.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -u\n" in text
    assert "\r" not in text
    assert os.access(SH, os.X_OK)
    checked = subprocess.run([SH_BIN, "-n", str(SH)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_sh_passes_shellcheck():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck niet geïnstalleerd (apt-get install shellcheck)")
    result = subprocess.run([shellcheck, "--shell=sh", str(SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# --- the .cmd script, as text ---------------------------------------------------------------


def cmd_lines() -> list[str]:
    return CMD.read_bytes().decode("ascii").split("\r\n")


def code_lines() -> list[str]:
    """The lines cmd executes: no comments, no blank lines."""
    return [
        line.strip()
        for line in cmd_lines()
        if line.strip() and not line.strip().lower().startswith("rem")
    ]


def test_cmd_is_ascii_with_crlf_line_endings():
    raw = CMD.read_bytes()
    raw.decode("ascii")  # cmd reads a batch file in the console code page: no accents, no BOM
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r") > 50


def test_cmd_sets_up_the_console_and_the_folder():
    code = code_lines()
    assert code[0] == "@echo off"
    assert code[1].startswith("setlocal")
    assert "chcp 65001 >nul" in code
    assert any(line.startswith('cd /d "%~dp0"') for line in code)
    assert code.index("chcp 65001 >nul") < next(
        i for i, line in enumerate(code) if line.startswith('cd /d "%~dp0"')
    )


def test_cmd_finds_the_program_in_order_and_explains_the_install():
    code = code_lines()
    text = "\n".join(code)
    where = text.index("where inkoopkracht-xl")
    launcher = text.index('py -c "import inkoopkracht_xl"')
    python = text.index('python -c "import inkoopkracht_xl"')
    assert where < launcher < python
    assert 'set "IKXL=py -m inkoopkracht_xl"' in text
    assert 'set "IKXL=python -m inkoopkracht_xl"' in text
    assert "if not defined IKXL goto geenprogramma" in code
    section = text.split(":geenprogramma\n")[1].split("goto einde")[0]
    assert "niet gevonden" in section and 'README.md onder "Aan de slag"' in section
    assert "py -m pip install ." in section


def test_cmd_asks_for_the_period_and_refuses_empty_input():
    code = code_lines()
    assert f'set /p "PERIODE={PROMPT}"' in code
    asked = code.index(f'set /p "PERIODE={PROMPT}"')
    assert code[asked - 1] == 'set "PERIODE="'  # an empty answer must not keep an old value
    assert code[asked + 1] == "if not defined PERIODE goto leeg"
    text = "\n".join(code)
    assert "if %POGING% geq 3 goto geenperiode" in text
    assert "Er is geen periode ingevuld" in text.split(":geenperiode\n")[1]


def test_cmd_checks_before_it_settles_and_always_pauses_at_the_end():
    code = code_lines()
    runs = [line for line in code if line.startswith("%IKXL% ")]
    assert [line.split()[1] for line in runs] == ["controleer", "afrekening"]
    check = code.index(runs[0])
    assert code[check + 1] == "if errorlevel 1 goto invoerfout"
    assert code.index(runs[1]) > check
    assert code[code.index(runs[1]) + 1] == "if errorlevel 1 goto afrekenfout"
    text = "\n".join(code)
    assert "Herstel de fouten en start opnieuw." in text.split(":invoerfout\n")[1].split(":")[0]
    # Every jump lands on a label, every path ends at :einde, which pauses once before leaving.
    labels = {line[1:] for line in code if line.startswith(":")}
    targets = set(re.findall(r"goto (\w+)", text))
    assert targets <= labels and "einde" in targets
    assert code.count("pause") == 1
    assert code.index("pause") > code.index(":einde")
    assert [line for line in code if re.search(r"\bexit\b", line)] == ["endlocal & exit /b %RC%"]
    assert code[-1] == "endlocal & exit /b %RC%"


def test_cmd_opens_the_output_folder_in_explorer():
    code = code_lines()
    assert 'set "UIT=%CD%\\uitvoer\\%PERIODE%"' in code
    assert 'start "" explorer "%UIT%"' in code
    assert code.index('start "" explorer "%UIT%"') > code.index(
        next(line for line in code if line.startswith("%IKXL% afrekening"))
    )


def test_cmd_quotes_every_path_and_the_period():
    """'&' or ')' in a folder name, or odd input, must never reach cmd's parser unquoted."""
    for line in code_lines():
        outside_quotes = re.sub(r'"[^"]*"', "", line)
        assert not re.search(r"%(MAP|CD|PERIODE|UIT|~dp0)%?", outside_quotes), line


def test_cmd_command_lines_match_the_cli_and_run(tmp_path):
    """Each program call in the .cmd, with its variables filled in, is accepted by the real CLI
    (every option exists in its --help) and does the settlement."""
    folder = jaarplan_folder(tmp_path / "Afrekening 2024 & co")
    runner = CliRunner()
    calls = [line for line in code_lines() if line.startswith("%IKXL% ")]
    assert len(calls) == 2
    for line in calls:
        filled = line.removeprefix("%IKXL% ").replace("%MAP%", str(folder))
        args = shlex.split(filled.replace("%PERIODE%", "2024-H1"))
        help_text = runner.invoke(main, [args[0], "--help"]).output
        options = [arg for arg in args if arg.startswith("-")]
        for option in options:
            assert re.search(rf"^\s+{re.escape(option)}\b", help_text, re.M), (option, help_text)
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert options == ["--periode"]
    assert invoice_files(folder, "2024-H1") == INVOICE_FILES_H1
