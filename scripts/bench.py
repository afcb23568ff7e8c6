"""Benchmark of whole `afrekening` runs against the import floor, at jaarplan, national and 2x scale.

Run: python scripts/bench.py [--runs 9] [--sizes jaarplan,nationaal,2x]
                                            [--keep MAP] [--quick] [--seed 2024] [--timeout 600]

Not a unit test: it prints a table and the ratios the speed targets are stated in (issue 6).
The drop folders are synthetic and deterministic (`random.Random(seed)`); `generate()` is importable
so a test can reuse the national-scale folder for a correctness check.

Memory is measured on Linux only: the summed RSS of the whole process tree, sampled from /proc.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout without installing the package: the script lives in ROOT/scripts.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

JAARPLAN = ROOT / "workbooks" / "2024"
DEFAULT_SEED = 2024
PERIOD = "2024-H1"
YEAR = 2024
# A fixed creation date: the same seed gives byte-identical workbooks.
CREATED = datetime(2024, 1, 1)
CALENDAR_FILE = "Aanbestedingskalender.xlsx"
BUDGET_FILE = "Begroting.xlsx"

FLOOR_IMPORTS = "import pandas, xlsxwriter, click"
# Without pandas in the venv the floor is what the package itself must import to read and write.
FALLBACK_FLOOR_IMPORTS = "import xlsxwriter, click, python_calamine"

SAMPLE_SECONDS = 0.02  # how often the process tree's RSS is sampled
MB = 1_000_000  # decimal megabytes: the stricter reading of "500 MB"

# Targets of issue 6.
FLOOR_RATIO_TARGET = 1.25
NATIONAL_SECONDS_TARGET = 10.0
NATIONAL_MB_TARGET = 500.0
DOUBLE_RATIO_TARGET = 2.1
HELP_SECONDS_TARGET = 0.2
# Issue 14: `wijzigingen` on the national folder, changed as in `generate_changed`.
CHANGES_SECONDS_TARGET = 2.0
CHANGES_FOUND = "206 wijzigingen sinds de afrekening"
# Issue 14: `status` on the register of the national folder settled once (nothing sent yet).
STATUS_SECONDS_TARGET = 2.0
STATUS_NEXT_STEP = "facturen nog niet verzonden)"
# Issue 14: `rapport` over two national-scale years in one register (`prepare_report`).
REPORT_SECONDS_TARGET = 10.0
REPORT_OK = "Controle rapport = facturen in het register: OK."
REPORT_PERIODS = (f"{YEAR}-H1", f"{YEAR}-H2", f"{YEAR + 1}")  # two half-years, then a whole year
# What every measured afrekening must print: the money-conservation check held (must-show 4).
BALANCED = "controle facturen + eigen aandeel = kosten: OK"


@dataclass(frozen=True)
class Scale:
    """How big a synthetic drop folder is."""

    municipalities: int
    core: int
    network: int
    subjects: int
    min_participants: int
    max_participants: int
    cost_lines: int
    joins: int


NATIONAL = Scale(
    municipalities=342,
    core=4,
    network=40,
    subjects=5_000,
    min_participants=2,
    max_participants=12,
    cost_lines=20_000,
    joins=500,
)
DOUBLE = Scale(
    municipalities=2 * NATIONAL.municipalities,
    core=NATIONAL.core,
    network=2 * NATIONAL.network,
    subjects=2 * NATIONAL.subjects,
    min_participants=NATIONAL.min_participants,
    max_participants=NATIONAL.max_participants,
    cost_lines=2 * NATIONAL.cost_lines,
    joins=2 * NATIONAL.joins,
)
# None: the jaarplan's own workbooks, copied.
SIZES: dict[str, Scale | None] = {"jaarplan": None, "nationaal": NATIONAL, "2x": DOUBLE}

_TOPICS = (
    "Schoonmaakdiensten",
    "Inhuur personeel",
    "ICT-hardware",
    "Software",
    "Energie",
    "Leerlingenvervoer",
    "Groenonderhoud",
    "Juridische diensten",
    "Kantoorartikelen",
    "Telefonie",
    "Verzekeringen",
    "Accountancy",
)
_COST_DESCRIPTIONS = (
    "Inhuur aanbestedingsadviseur",
    "Juridisch advies",
    "Marktconsultatie",
    "Publicatiekosten TenderNed",
    "Externe deskundige",
)
_POSTS = (  # the jaarplan's posts, scaled per 100.000 inhabitants of the network
    ("Personele kosten (vast personeel)", Decimal("30000")),
    ("Kennis en ontwikkeling netwerkorganisatie", Decimal("1250")),
    ("Abonnementen Mett, online platform", Decimal("920")),
    ("Abonnement VDLC, Uitspraken - aanbestedingen", Decimal("90")),
    ("Onvoorzien", Decimal("500")),
)


def generate(size: str, folder: Path | str, seed: int = DEFAULT_SEED) -> Path:
    """Write the drop folder of `size` ('jaarplan', 'nationaal' or '2x') into `folder`.

    The jaarplan size is a copy of workbooks/2024. The other sizes are synthetic and depend only on
    `seed`: the same seed gives the same rows and byte-identical workbooks. Every cost line has at
    least one participant on its date (the first listed participant of a subject never joins
    later), so `controleer` finds no errors.
    """
    # Imported here: the measuring process stays small (see `measure`).
    from inkoopkracht_xl import layout
    from inkoopkracht_xl.templates import write_input_workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scale = SIZES[size]
    if scale is None:
        for path in sorted(JAARPLAN.glob("*.xlsx")):
            if not path.name.startswith("~$"):
                shutil.copy2(path, folder / path.name)
        return folder
    calendar, budget = synthetic_rows(scale, seed)
    write_input_workbook(
        folder / CALENDAR_FILE,
        layout.CALENDAR_SHEETS,
        calendar,
        title=f"Aanbestedingskalender {YEAR} (synthetisch, benchmark)",
        created=CREATED,
    )
    write_input_workbook(folder / BUDGET_FILE, layout.BUDGET_SHEETS, budget, created=CREATED)
    return folder


def generate_changed(folder: Path | str, seed: int = DEFAULT_SEED) -> Path:
    """The national folder as a coordinator brings it to the second half-year: the same seed's
    rows with, in both workbooks, what `wijzigingen` must find (206 changes): a subject
    renamed together with its cost lines and joins, 5 new subjects, 20 subjects with an extra
    participant (10 of them with its join), 5 populations changed, every post realised, 50 cost
    amounts changed, 10 cost lines removed and 100 new ones dated in the second half-year."""
    from inkoopkracht_xl import layout
    from inkoopkracht_xl.templates import write_input_workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    calendar, budget = synthetic_rows(NATIONAL, seed)
    rng = random.Random(seed + 1)
    subjects, codes = calendar["Kalender"], [row[0] for row in calendar["Gemeenten"]]
    renamed, new_name = subjects[10][1], f"{subjects[10][1]} (perceel 1)"
    subjects[10][1] = new_name
    for row in (*budget["Projectkosten"], *budget["Toetredingen"]):
        if row[1 if len(row) > 3 else 0] == renamed:
            row[1 if len(row) > 3 else 0] = new_name
    for n in range(20):
        row = subjects[100 + 7 * n]
        extra = next(c for c in codes[::-1] if c not in row[3].split(", "))
        row[3] = f"{row[3]}, {extra}"
        if n < 10:
            budget["Toetredingen"].append([row[1], extra, date(YEAR, 9, 1) + timedelta(days=n)])
    for n in range(5):
        subjects.append([3, f"Nieuwe verkenning {n + 1}", "2025", ", ".join(codes[:4]), None])
    for row in budget["Inwoners"][:5]:
        row[2] += 1_000
    for row in budget["Begroting"]:
        row[2] = row[1] - 100
    costs = budget["Projectkosten"]
    for row in costs[::400]:
        row[4] += Decimal("12.34")
    del costs[-10:]
    for n in range(1, 101):
        subject = subjects[rng.randrange(len(subjects) - 5)][1]
        costs.append(
            [f"K{YEAR}-9{n:05d}", subject, "Nagekomen kosten", date(YEAR, 7, 1), Decimal("250.00")]
            + ["inwoners"]
        )
    write_input_workbook(folder / CALENDAR_FILE, layout.CALENDAR_SHEETS, calendar, created=CREATED)
    write_input_workbook(folder / BUDGET_FILE, layout.BUDGET_SHEETS, budget, created=CREATED)
    return folder


def generate_next_year(folder: Path | str, seed: int = DEFAULT_SEED) -> Path:
    """The national folder a year on (YEAR + 1), settled into the same register as YEAR for the
    `rapport` measurement over two years: the same seed's rows with `Jaar`, the peildatum, the
    Kenmerken and every cost and join date moved one year on (29 February to the 28th)."""
    from inkoopkracht_xl import layout
    from inkoopkracht_xl.templates import write_input_workbook

    def later(day: date) -> date:
        return date(day.year + 1, day.month, min(day.day, 28 if day.month == 2 else 31))

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    calendar, budget = synthetic_rows(NATIONAL, seed)
    year_label = next(name for key, name, *_rest in layout.SETTINGS_KEYS if key == "year")
    for row in budget["Instellingen"]:
        if row[0] == year_label:
            row[1] = YEAR + 1
    for row in budget["Inwoners"]:
        row[3] = later(row[3])
    for row in budget["Projectkosten"]:
        row[0] = row[0].replace(f"K{YEAR}-", f"K{YEAR + 1}-")
        row[3] = later(row[3])
    for row in budget["Toetredingen"]:
        row[2] = later(row[2])
    write_input_workbook(folder / CALENDAR_FILE, layout.CALENDAR_SHEETS, calendar, created=CREATED)
    write_input_workbook(folder / BUDGET_FILE, layout.BUDGET_SHEETS, budget, created=CREATED)
    return folder


def synthetic_rows(
    scale: Scale, seed: int = DEFAULT_SEED
) -> tuple[dict[str, list[list[object]]], dict[str, list[list[object]]]]:
    """The calendar's and the budget's rows (layout column order) for a synthetic folder."""
    from inkoopkracht_xl import layout

    rng = random.Random(seed)
    digits = max(3, len(str(scale.municipalities)))
    codes = [f"G{n:0{digits}d}" for n in range(1, scale.municipalities + 1)]
    names = {code: f"Gemeente {code[1:]}" for code in codes}
    core = codes[: scale.core]
    network = set(core) | set(rng.sample(codes[scale.core :], scale.network - scale.core))
    lead = rng.choice(sorted(network))
    inhabitants = {code: rng.randint(1_000, 900_000) for code in codes}

    subject_digits = max(4, len(str(scale.subjects)))
    subjects: list[tuple[str, list[str]]] = []
    calendar_rows: list[list[object]] = []
    for n in range(1, scale.subjects + 1):
        name = f"Aanbesteding {n:0{subject_digits}d} {rng.choice(_TOPICS)}"
        participants = rng.sample(
            codes, rng.randint(scale.min_participants, scale.max_participants)
        )
        subjects.append((name, participants))
        calendar_rows.append(
            [
                rng.randint(1, 4),
                name,
                rng.choice(("2024", "2023/2024", "Nader te bepalen")),
                ", ".join(participants),
                rng.choice((None, "2018", "2019", "2021")),
            ]
        )

    first_day = date(YEAR, 1, 1)
    days_in_year = (date(YEAR + 1, 1, 1) - first_day).days

    def random_day() -> date:
        return first_day + timedelta(days=rng.randrange(days_in_year))

    # Joins first: a later joiner is never a subject's first participant, so every subject has a
    # participant on every day of the year.
    joined: set[tuple[int, str]] = set()
    join_rows: list[list[object]] = []
    while len(join_rows) < scale.joins:
        index = rng.randrange(len(subjects))
        name, participants = subjects[index]
        code = rng.choice(participants[1:])
        if (index, code) in joined:
            continue
        joined.add((index, code))
        join_rows.append([name, code, random_day()])

    cost_rows: list[list[object]] = []
    for n in range(1, scale.cost_lines + 1):
        name, _participants = subjects[rng.randrange(len(subjects))]
        cost_rows.append(
            [
                f"K{YEAR}-{n:06d}",
                name,
                rng.choice(_COST_DESCRIPTIONS),
                random_day(),
                Decimal(rng.randint(1_000, 5_000_000)).scaleb(-2),  # 10,00 .. 50.000,00
                "gelijk" if rng.random() < 0.1 else "inwoners",
            ]
        )

    network_people = sum(inhabitants[code] for code in network)
    posts = [
        [post, (per_100k * network_people / 100_000).quantize(Decimal(1)), None]
        for post, per_100k in _POSTS
    ]
    dutch = {key: name for key, name, *_rest in layout.SETTINGS_KEYS}
    settings = {
        "year": YEAR,
        "lead": lead,
        "method": "procent",
        "rounding": "euro",
        "invoice_prefix": "IK",
        "payment_days": 30,
        "sender_name": "Inkoopkracht (synthetisch, benchmark)",
        "sender_address": "Postbus 1, 1000 AA Voorbeeld",
        # The documentation IBAN (valid check digits) and made-up identifiers: with every field
        # an e-invoice needs, each of the 341 invoices gets its PDF and its e-invoice (issue 13).
        "sender_iban": "NL91 ABNA 0417 1643 00",
        "sender_email": "inkoop@example.org",
        "sender_legal_name": f"Gemeente {names[lead]}",
        "sender_street": "Voorbeeldstraat 1",
        "sender_postcode": "1000 AA",
        "sender_city": "Voorbeeld",
        "sender_oin": "00000000000000000001",
    }
    calendar = {
        "Kalender": calendar_rows,
        "Gemeenten": [
            [code, names[code], "kern" if code in core else "extra", None] for code in codes
        ],
    }
    budget = {
        "Instellingen": [[dutch[key], value] for key, value in settings.items()],
        "Begroting": posts,
        "Inwoners": [
            [
                code,
                names[code],
                inhabitants[code],
                date(YEAR - 1, 1, 1),
                "ja" if code in network else "nee",
                "synthetisch (benchmark)",
            ]
            for code in codes
        ],
        "Projectkosten": cost_rows,
        "Toetredingen": join_rows,
        "Contacten": [
            # Code, Naam, E-mail, CC, Rechtspersoon, Straat, Postcode, Plaats, OIN, KvK, Uw kenmerk
            [code, f"Team Inkoop {names[code]}", f"inkoop@{code.lower()}.example.org", None, None]
            + [f"Voorbeeldstraat {n}", "1000 AA", names[code], f"{100 + n:020d}", None, code]
            for n, code in enumerate(codes, start=1)
        ],
    }
    return calendar, budget


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    seconds: float
    tree_bytes: int  # max over the samples of the RSS summed over the process tree
    # ru_maxrss from wait4: the largest single process of the tree. Linux carries the parent's
    # high-water mark into a vfork'ed child across exec, so this is only right while the
    # measuring process itself stays small: it generates nothing and imports no package.
    single_bytes: int
    returncode: int
    output: str
    timed_out: bool = False

    @property
    def peak_bytes(self) -> int:
        # Sampling can miss a peak shorter than the interval; ru_maxrss cannot. Take the larger.
        return max(self.tree_bytes, self.single_bytes)


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the fields after the last ')' do not.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# Finding the process tree means reading every process's /proc entry; doing that at every sample
# cost a tenth of a core, taken from the run being measured. The tree is looked up every
# DISCOVER_EVERY samples (0,2 s: the workers start once and live for the whole run) and only the
# known processes' RSS is read in between.
DISCOVER_EVERY = 10


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as file:
            return int(file.read().split()[1]) * PAGE_BYTES  # resident pages
    except (OSError, ValueError, IndexError):
        return 0  # gone


def _tree(root: int) -> list[int]:
    children = _children_by_parent()
    tree, found = [root], []
    while tree:
        pid = tree.pop()
        found.append(pid)
        tree.extend(children.get(pid, ()))
    return found


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped; keeps the max."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        count = 0
        pids = [self.pid]
        while not self._stop_event.is_set():
            if count % DISCOVER_EVERY == 0:
                pids = _tree(self.pid)
            count += 1
            self.peak = max(self.peak, sum(_rss_bytes(pid) for pid in pids))
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def measure(command: Sequence[str], *, cwd: Path, timeout: float) -> Sample:
    """Run `command` once: wall time, peak memory of its process tree, exit code and output."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        # wait4 rather than Popen.wait: it also gives this child's resource usage.
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        tree_bytes = sampler.stop()
        log.seek(0)
        output = log.read().decode("utf-8", errors="replace")
    return Sample(
        seconds=seconds,
        tree_bytes=tree_bytes,
        single_bytes=usage.ru_maxrss * 1024,  # kilobytes on Linux
        returncode=process.returncode,
        output=output,
        timed_out=timed_out.is_set(),
    )


@dataclass
class Series:
    label: str
    samples: list[Sample] = field(default_factory=list)
    failure: str = ""

    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    def median_seconds(self) -> float:
        return statistics.median(self.seconds())

    def median_mb(self) -> float:
        return statistics.median(s.peak_bytes for s in self.samples) / MB


# --- output ------------------------------------------------------------------------------------


def nl(value: float, decimals: int = 2) -> str:
    """A number the Dutch way: 12.345,67."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def machine() -> list[str]:
    memory = "onbekend"
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            for line in file:
                if line.startswith("MemTotal:"):
                    memory = f"{nl(int(line.split()[1]) / 1024 / 1024, 1)} GiB"
    except OSError:
        pass
    return [
        f"Machine:   {platform.platform()}",
        f"Cores:     {os.cpu_count()}",
        f"Geheugen:  {memory}",
        f"Python:    {platform.python_version()} ({sys.executable})",
    ]


def load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the timings."""
    return " / ".join(nl(value, 2) for value in os.getloadavg())


def verdict(ok: bool, failure: str = "TE LANGZAAM") -> str:
    return "OK" if ok else failure


def print_table(series: list[Series]) -> None:
    header = (
        f"{'meting':<12} {'n':>3} {'mediaan (s)':>12} {'min (s)':>9} {'max (s)':>9} "
        f"{'piek mediaan (MB)':>18} {'grootste proces (MB)':>21}"
    )
    print(header)
    print("-" * len(header))
    for item in series:
        if not item.samples:
            print(f"{item.label:<12} {0:>3}  niet gemeten: {item.failure}")
            continue
        times = item.seconds()
        single = statistics.median(s.single_bytes for s in item.samples) / MB
        print(
            f"{item.label:<12} {len(times):>3} {nl(item.median_seconds(), 3):>12} "
            f"{nl(min(times), 3):>9} {nl(max(times), 3):>9} {nl(item.median_mb(), 1):>18} "
            f"{nl(single, 1):>21}"
        )
        if item.failure:
            print(f"{'':<12}     let op: {item.failure}")


def paired_ratio(numerator: Series, denominator: Series) -> float | None:
    """Median of the per-round ratios: each round's runs ran close together in time."""
    pairs = list(zip(numerator.seconds(), denominator.seconds(), strict=False))
    if not pairs:
        return None
    return statistics.median(a / b for a, b in pairs)


def print_targets(results: dict[str, Series], floor_label: str) -> None:
    print()
    print("Doelen (issue 6):")
    floor, help_ = results["vloer"], results["--help"]
    jaarplan, national, double = (results.get(k) for k in ("jaarplan", "nationaal", "2x"))

    def line(name: str, value: str, target: str, status: str) -> None:
        print(f"  {name:<41} {value:>10}   doel {target:<10} {status}")

    if jaarplan and jaarplan.samples and floor.samples:
        ratio = paired_ratio(jaarplan, floor)
        # The target is stated against importing pandas; a floor without it is no measure of it.
        status = (
            verdict(ratio <= FLOOR_RATIO_TARGET)
            if floor_label == FLOOR_IMPORTS
            else 'n.v.t.: vloer zonder pandas (pip install -e ".[bench]")'
        )
        line(
            "jaarplan ÷ vloer (mediaan per ronde)",
            nl(ratio, 2),
            f"≤ {nl(FLOOR_RATIO_TARGET, 2)}",
            status,
        )
    if national and national.samples and not national.failure:
        seconds, mb = national.median_seconds(), national.median_mb()
        line(
            "nationaal: tijd",
            f"{nl(seconds, 2)} s",
            f"≤ {nl(NATIONAL_SECONDS_TARGET, 0)} s",
            verdict(seconds <= NATIONAL_SECONDS_TARGET),
        )
        line(
            "nationaal: piekgeheugen (alle processen)",
            f"{nl(mb, 0)} MB",
            f"≤ {nl(NATIONAL_MB_TARGET, 0)} MB",
            verdict(mb <= NATIONAL_MB_TARGET, "TE VEEL GEHEUGEN"),
        )
        line(
            "nationaal: controle geld (elke run)",
            f"{len(national.samples)} × OK",
            "sluitend",
            "OK",
        )
    elif national:
        line("nationaal", "-", f"≤ {nl(NATIONAL_SECONDS_TARGET, 0)} s", national.failure)
    if national and double and national.samples and double.samples and not double.failure:
        ratio = paired_ratio(double, national)
        line(
            "2x ÷ nationaal",
            nl(ratio, 2),
            f"≤ {nl(DOUBLE_RATIO_TARGET, 1)}",
            verdict(ratio <= DOUBLE_RATIO_TARGET),
        )
    elif double:
        line("2x ÷ nationaal", "-", f"≤ {nl(DOUBLE_RATIO_TARGET, 1)}", double.failure or "-")
    for name, label, target in (
        ("wijzigingen", "wijzigingen nationaal (206 wijzigingen)", CHANGES_SECONDS_TARGET),
        ("rapport", "rapport nationaal (twee jaren)", REPORT_SECONDS_TARGET),
        ("status", "status nationaal (register na afrekening)", STATUS_SECONDS_TARGET),
    ):
        _seconds_line(line, results.get(name), label, target)
    if help_.samples:
        seconds = help_.median_seconds()
        line(
            "inkoopkracht-xl --help",
            f"{nl(seconds, 3)} s",
            f"< {nl(HELP_SECONDS_TARGET, 1)} s",
            verdict(seconds < HELP_SECONDS_TARGET),
        )


def _seconds_line(line, series: Series | None, label: str, target: float) -> None:
    """A command's median against its time target; '-' and why when it failed."""
    if series is None:
        return
    if series.samples and not series.failure:
        seconds = series.median_seconds()
        line(label, f"{nl(seconds, 2)} s", f"< {nl(target, 0)} s", verdict(seconds < target))
    else:
        line(label.split(" (")[0], "-", f"< {nl(target, 0)} s", series.failure)


# --- main --------------------------------------------------------------------------------------


def floor_command(cwd: Path) -> tuple[list[str], str, str]:
    """The import floor's command, its label, and a note when pandas is missing."""
    probe = subprocess.run(
        [sys.executable, "-c", "import pandas"], cwd=cwd, capture_output=True, check=False
    )
    if probe.returncode == 0:
        return [sys.executable, "-c", FLOOR_IMPORTS], FLOOR_IMPORTS, ""
    note = (
        "Let op: pandas is niet geïnstalleerd in deze omgeving (het programma gebruikt het niet); "
        f"als importvloer geldt daarom '{FALLBACK_FLOOR_IMPORTS}' en het doel jaarplan ÷ vloer "
        "is niet te beoordelen. Installeer pandas voor de vloer uit issue 6: "
        'pip install -e ".[bench]".'
    )
    return [sys.executable, "-c", FALLBACK_FLOOR_IMPORTS], FALLBACK_FLOOR_IMPORTS, note


def generate_command(size: str, folder: Path, seed: int) -> list[str]:
    """`generate` in its own process, so its memory never counts towards a measured run."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench; "
        f"bench.generate({size!r}, {str(folder)!r}, {seed})"
    )
    return [sys.executable, "-c", code]


def generate_changed_command(folder: Path, seed: int) -> list[str]:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench; "
        f"bench.generate_changed({str(folder)!r}, {seed})"
    )
    return [sys.executable, "-c", code]


def prepare_changes(
    folders: dict[str, Path], inputs: Path, scratch: Path, arguments: argparse.Namespace
) -> tuple[Path, Path] | None:
    """For the `wijzigingen` measurement: the national folder settled once (its register and
    input copy) and the changed folder to compare with it. None without the national size."""
    if "nationaal" not in folders:
        return None
    settled = scratch / "wijzigingen-uit"
    command = [sys.executable, "-m", "inkoopkracht_xl", "afrekening", str(folders["nationaal"])]
    done = measure(
        [*command, "--periode", PERIOD, "--uit", str(settled)], cwd=scratch, timeout=3600
    )
    changed = inputs / "nationaal-gewijzigd"
    if changed.exists():
        shutil.rmtree(changed)
    made = measure(generate_changed_command(changed, arguments.seed), cwd=scratch, timeout=3600)
    if done.returncode != 0 or made.returncode != 0:
        print((done.output + made.output)[-4000:])
        print("De invoer voor de meting van wijzigingen kon niet worden gemaakt.")
        return None
    return changed, settled


def generate_next_year_command(folder: Path, seed: int) -> list[str]:
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench; "
        f"bench.generate_next_year({str(folder)!r}, {seed})"
    )
    return [sys.executable, "-c", code]


def prepare_report(
    folders: dict[str, Path], inputs: Path, scratch: Path, arguments: argparse.Namespace
) -> Path | None:
    """For the `rapport` measurement: one register holding two national-scale years, YEAR in
    two half-years and YEAR + 1 (`generate_next_year`) at once. None without the national size."""
    if "nationaal" not in folders:
        return None
    following = inputs / "nationaal-volgend-jaar"
    if following.exists():
        shutil.rmtree(following)
    made = measure(generate_next_year_command(following, arguments.seed), cwd=scratch, timeout=3600)
    out = scratch / "rapport-uit"
    outputs = [made.output] if made.returncode else []
    for period in REPORT_PERIODS:
        folder = folders["nationaal"] if period.startswith(str(YEAR)) else following
        command = [sys.executable, "-m", "inkoopkracht_xl", "afrekening", str(folder)]
        done = measure(
            [*command, "--periode", period, "--uit", str(out)], cwd=scratch, timeout=3600
        )
        if done.returncode:
            outputs.append(done.output)
    if outputs:
        print("".join(outputs)[-4000:])
        print("Het register voor de meting van rapport kon niet worden gemaakt.")
        return None
    return out


def help_command() -> list[str]:
    script = Path(sys.executable).with_name("inkoopkracht-xl")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "inkoopkracht_xl", "--help"]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Nine rounds: on a machine shared with others one round in five or so is disturbed; the
    # median of nine shrugs off two such rounds for each size.
    parser.add_argument("--runs", type=int, default=9, help="aantal rondes (standaard 9)")
    parser.add_argument(
        "--sizes",
        default=",".join(SIZES),
        help=f"komma-gescheiden keuze uit {', '.join(SIZES)} (standaard alle)",
    )
    parser.add_argument(
        "--keep", type=Path, help="schrijf de invoermappen hierheen en laat ze staan"
    )
    parser.add_argument(
        "--quick", action="store_true", help="rooktest: 1 ronde, alleen jaarplan en nationaal"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="startwaarde generator")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconden per run voordat die wordt gestopt"
    )
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.runs, arguments.sizes = 1, "jaarplan,nationaal"
    sizes = [s.strip() for s in arguments.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"onbekende grootte {', '.join(unknown)}; kies uit {', '.join(SIZES)}")
    if arguments.runs < 1:
        parser.error("--runs moet minstens 1 zijn")
    arguments.sizes = sizes
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if not Path("/proc/self/status").exists():
        print("Deze benchmark meet geheugen via /proc en werkt alleen op Linux.", file=sys.stderr)
        return 2

    scratch = Path(tempfile.mkdtemp(prefix="inkoopkracht-bench-"))
    inputs = arguments.keep or scratch / "invoer"
    try:
        return _bench(arguments, scratch, Path(inputs).resolve())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _bench(arguments: argparse.Namespace, scratch: Path, inputs: Path) -> int:
    print("Benchmark inkoopkracht-xl (alleen Linux: geheugen via /proc)")
    for text in machine():
        print(text)
    print(
        f"Rondes: {arguments.runs}; groottes: {', '.join(arguments.sizes)}; seed {arguments.seed}"
    )
    print(f"Belasting bij de start: {load()}")
    print()

    floor, floor_label, floor_note = floor_command(scratch)
    if floor_note:
        print(floor_note)
        print()

    folders: dict[str, Path] = {}
    for size in arguments.sizes:
        folder = inputs / size
        if folder.exists():
            shutil.rmtree(folder)
        made = measure(generate_command(size, folder, arguments.seed), cwd=scratch, timeout=3600)
        if made.returncode != 0:
            print(made.output[-4000:])
            print(f"Het maken van de invoer {size} is mislukt.")
            return 1
        megabytes = sum(p.stat().st_size for p in folder.glob("*.xlsx")) / MB
        check = measure(
            [sys.executable, "-m", "inkoopkracht_xl", "controleer", str(folder)],
            cwd=scratch,
            timeout=arguments.timeout,
        )
        print(
            f"Invoer {size}: gemaakt in {nl(made.seconds, 2)} s ({nl(megabytes, 2)} MB, "
            f"{nl(made.peak_bytes / MB, 0)} MB geheugen) in {folder}; "
            f"controleer: {nl(check.seconds, 2)} s, {nl(check.peak_bytes / MB, 0)} MB, "
            f"exitcode {check.returncode}"
        )
        if check.returncode != 0:
            print(check.output[-4000:])
            print(f"De controle van {size} faalt; eerst de generator of de controle herstellen.")
            return 1
        folders[size] = folder
    changes = prepare_changes(folders, inputs, scratch, arguments)
    report_out = prepare_report(folders, inputs, scratch, arguments)
    print()

    afrekening = [sys.executable, "-m", "inkoopkracht_xl", "afrekening"]
    measured = ("vloer", *folders, *(["wijzigingen"] if changes else []), "--help")
    if changes:  # status reads the register the wijzigingen measurement settled
        measured = (*measured[:-1], "status", measured[-1])  # --help stays last
    if report_out:
        measured = (*measured[:-1], "rapport", measured[-1])
    results = {label: Series(label) for label in measured}

    # One untimed warm-up of the cheap commands, so byte-compiling the package is not measured.
    measure(floor, cwd=scratch, timeout=arguments.timeout)
    measure(help_command(), cwd=scratch, timeout=arguments.timeout)
    if "jaarplan" in folders:
        warm = Path(tempfile.mkdtemp(dir=scratch))
        measure(
            [*afrekening, str(folders["jaarplan"]), "--periode", PERIOD, "--uit", str(warm)],
            cwd=scratch,
            timeout=arguments.timeout,
        )
        shutil.rmtree(warm, ignore_errors=True)

    steps = list(measured)
    for round_number in range(1, arguments.runs + 1):
        # Every other round in reverse order: a measurement that always followed a long one
        # (2x after nationaal) would carry the machine's state after it (heat, caches, other
        # guests' load) into every sample; alternating cancels that, and keeps each ratio's
        # pair (vloer and jaarplan, nationaal and 2x) next to each other.
        for step in steps if round_number % 2 else reversed(steps):
            series = results[step]
            if step == "vloer":
                record(series, floor, scratch, arguments.timeout)
            elif step == "--help":
                record(series, help_command(), scratch, arguments.timeout)
            elif step == "wijzigingen":
                changed, settled = changes
                command = [sys.executable, "-m", "inkoopkracht_xl", "wijzigingen", str(changed)]
                command += ["--uit", str(settled)]
                record(series, command, scratch, arguments.timeout, expect=CHANGES_FOUND)
            elif step == "rapport":
                command = [sys.executable, "-m", "inkoopkracht_xl", "rapport", str(report_out)]
                command += ["--bestand", str(scratch / "rapport.xlsx")]
                record(series, command, scratch, arguments.timeout, expect=REPORT_OK)
            elif step == "status":
                command = [sys.executable, "-m", "inkoopkracht_xl", "status", str(changes[1])]
                record(series, command, scratch, arguments.timeout, expect=STATUS_NEXT_STEP)
            elif not series.failure:  # timed out or failed before: not again
                out = Path(tempfile.mkdtemp(dir=scratch))
                command = [*afrekening, str(folders[step]), "--periode", PERIOD, "--uit", str(out)]
                record(series, command, scratch, arguments.timeout, expect=BALANCED)
                shutil.rmtree(out, ignore_errors=True)
        done = ", ".join(
            f"{s.label} {nl(s.samples[-1].seconds, 2)} s" for s in results.values() if s.samples
        )
        print(f"ronde {round_number}/{arguments.runs}: {done}", flush=True)

    print()
    print(f"Vloer:      python -c '{floor_label}'")
    print(
        f"Afrekening: python -m inkoopkracht_xl afrekening MAP --periode {PERIOD} "
        "--uit <nieuwe lege map per run>"
    )
    if changes:
        print(
            "Wijzigingen: python -m inkoopkracht_xl wijzigingen <landelijk, gewijzigd> --uit "
            "<de landelijke map eenmaal afgerekend>"
        )
        print("Status:     python -m inkoopkracht_xl status <de landelijke map eenmaal afgerekend>")
    if report_out:
        print(
            "Rapport:    python -m inkoopkracht_xl rapport <register met twee landelijke jaren: "
            f"{', '.join(REPORT_PERIODS)}> --bestand <rapport.xlsx>"
        )
    print(f"Hulp:       {' '.join(help_command())}")
    warmed = "vloer, --help" + (", jaarplan" if "jaarplan" in folders else "")
    print(
        "Per ronde na elkaar: " + ", ".join(steps) + " (even rondes omgekeerd); "
        f"elke meting een nieuw proces; vooraf één ongemeten opwarmronde ({warmed})."
    )
    print(
        "Piek = het grootste van: de som van het RSS van alle processen van de run (elke "
        f"{nl(SAMPLE_SECONDS * 1000, 0)} ms gemeten; welke processen dat zijn elke "
        f"{nl(SAMPLE_SECONDS * DISCOVER_EVERY, 1)} s opnieuw bepaald) en ru_maxrss van het "
        "grootste proces. 1 MB = 1.000.000 bytes."
    )
    print()
    print_table(list(results.values()))
    print_targets(results, floor_label)
    print()
    print(f"Belasting aan het eind: {load()} (andere processen op de machine storen de meting)")
    return 0


def record(
    series: Series, command: Sequence[str], cwd: Path, timeout: float, expect: str = ""
) -> None:
    """Measure once into `series`; a time-out, an exit code or missing `expect` text fails it."""
    sample = measure(command, cwd=cwd, timeout=timeout)
    if sample.timed_out:
        series.failure = f"TIME-OUT na {nl(timeout, 0)} s (gestopt)"
        print(f"{series.label}: {series.failure}", flush=True)
        return
    if sample.returncode != 0:
        series.failure = f"exitcode {sample.returncode}"
        print(f"{series.label}: mislukt met {series.failure}:\n{sample.output[-4000:]}")
        return
    if expect not in sample.output:
        series.failure = f"'{expect}' ontbreekt in de uitvoer"
        print(f"{series.label}: {series.failure}:\n{sample.output[-4000:]}")
        return
    series.samples.append(sample)


if __name__ == "__main__":
    sys.exit(main())
