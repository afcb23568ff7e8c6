"""The library (issue 15): the functions behind the commands and the pandas DataFrames.

Expected figures are the jaarplan's (workbooks/2024): € 131.035 network budget split by
population, Delft 106.086 inwoners = 26,15 % = € 34.266 a year, half of it in H1.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import inkoopkracht_xl
from inkoopkracht_xl import api, frames
from inkoopkracht_xl.errors import InputRefused

from .builders import SHIPPED
from .smtp import smtp_server

ROOT = Path(__file__).resolve().parents[1]
D = Decimal

# The jaarplan 2024's verdeelsleutel: code -> (gemeente, inwoners, percentage, bijdrage).
JAARPLAN_KEY = {
    "DE": ("Delft", 106086, D("26.15"), D("34266.00")),
    "PN": ("Pijnacker-Nootdorp", 57672, D("14.22"), D("18633.00")),
    "WE": ("Westland", 114887, D("28.32"), D("37109.00")),
    "ZM": ("Zoetermeer", 126998, D("31.31"), D("41027.00")),
}


def _no_floats(frame) -> None:
    """No cell of the frame (index included) is a float: money stays Decimal end to end."""
    cells = [*frame.index.to_flat_index(), *frame.to_numpy().ravel()]
    floats = [cell for cell in cells if isinstance(cell, float)]
    assert floats == []


@pytest.fixture(scope="module")
def shipped():
    return inkoopkracht_xl.read_folder(SHIPPED)


# -- the drop folder and the key ------------------------------------------------------------------


def test_the_jaarplan_key_as_a_dataframe(shipped):
    key = inkoopkracht_xl.key_frame(inkoopkracht_xl.allocation_key(shipped))
    assert key.index.name == "code"
    assert list(key.columns) == ["gemeente", "inwoners", "percentage", "bedrag"]
    assert {
        code: (row.gemeente, row.inwoners, row.percentage, row.bedrag)
        for code, row in key.iterrows()
    } == JAARPLAN_KEY
    assert all(type(v) is Decimal for v in [*key["percentage"], *key["bedrag"]])
    # 34.266 + 18.633 + 37.109 + 41.027 = 131.035, the budget to the cent; 26,15 + 14,22 +
    # 28,32 + 31,31 = 100,00 %.
    assert key["bedrag"].sum() == D("131035.00")
    assert key["percentage"].sum() == D("100.00")
    _no_floats(key)


def test_the_key_from_a_folder_path_is_the_same(shipped):
    by_path = inkoopkracht_xl.key_frame(str(SHIPPED))
    assert by_path.equals(inkoopkracht_xl.key_frame(shipped))
    assert inkoopkracht_xl.allocation_key(shipped.inputs).total == D("131035")


def test_populations_and_cost_lines_keep_their_types(shipped):
    populations = inkoopkracht_xl.populations_frame(shipped)
    delft = populations.loc["DE"]
    assert (delft.gemeente, delft.inwoners, delft.netwerk) == ("Delft", 106086, True)
    # The jaarplan counts inhabitants at 1-1 of the year before the budget year.
    assert type(delft.peildatum) is date and delft.peildatum == date(2023, 1, 1)
    costs = inkoopkracht_xl.cost_lines_frame(shipped)
    assert costs.index.name == "kenmerk"
    assert "VB-2024-001" in costs.index
    assert all(type(v) is Decimal for v in costs["bedrag"])
    assert all(type(v) is date for v in costs["datum"])
    _no_floats(populations)
    _no_floats(costs)
    joins = inkoopkracht_xl.joins_frame(shipped)
    assert joins.to_dict("records") == [
        {"onderwerp": "Dieptereiniging ICT hardware", "code": "MD", "datum": date(2024, 4, 1)}
    ]
    posts = inkoopkracht_xl.posts_frame(shipped)
    assert posts["begroot"].sum() == D("131035")  # the five posts of the jaarplan
    _no_floats(posts)


def test_calendar_and_participation_matrix_agree(shipped):
    calendar = inkoopkracht_xl.calendar_frame(shipped)
    matrix = inkoopkracht_xl.participation_frame(shipped)
    assert len(matrix) == len(calendar) == len(shipped.inputs.calendar.subjects)
    assert matrix.index.names == ["categorie", "onderwerp"]
    assert {str(dtype) for dtype in matrix.dtypes} == {"bool"}
    # Every mark is a participant of the calendar: the column sums are what each takes part in.
    counted = {
        code: sum(code in row for row in calendar["deelnemende_gemeenten"]) for code in matrix
    }
    assert matrix.sum().to_dict() == counted
    # 'ME' is no municipality of the Gemeenten sheet (controleer warns at Kalender C22); the
    # matrix keeps it visible as a column of its own, as the overview does.
    assert matrix.columns[-1] == "ME"
    assert matrix.loc[(2, "Leveren Speel- en sporttoestellen"), "ME"]
    municipalities = inkoopkracht_xl.municipalities_frame(shipped)
    assert list(municipalities.index[:4]) == ["DE", "PN", "WE", "ZM"]
    assert set(municipalities.loc[["DE", "PN", "WE", "ZM"], "rol"]) == {"kern"}


def test_a_folder_with_errors_is_refused_with_its_findings(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("uitvoer"))
    (folder / "Begroting 2024.xlsx").unlink()
    checked = inkoopkracht_xl.check_folder(folder)  # controleer: findings, no exception
    assert checked.inputs is None
    assert [f.message for f in checked.errors] == [
        "geen begroting gevonden: geen Excel-werkmap (.xlsx) met een werkblad 'Begroting'"
    ]
    with pytest.raises(InputRefused) as refused:
        inkoopkracht_xl.read_folder(folder)
    assert refused.value.findings == checked.errors
    with pytest.raises(InputRefused):
        inkoopkracht_xl.key_frame(folder)
    with pytest.raises(InputRefused):  # a reading with errors is no model to show
        inkoopkracht_xl.calendar_frame(checked)


# -- a settlement and the register ----------------------------------------------------------------


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """The README's first command through the library: 2024-H1 of the shipped workbooks."""
    folder = tmp_path_factory.mktemp("lib") / "2024"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("uitvoer"))
    run = inkoopkracht_xl.settle_period(folder, "2024-H1", issue_date=date(2024, 7, 1))
    return folder / "uitvoer", run


def test_a_settlements_invoice_lines(settled):
    _, run = settled
    lines = inkoopkracht_xl.invoice_lines_frame(run)
    # 6 + 4 + 5 + 4 + 4 + 3 + 2 lines on the invoices of DE, PN, WE, ZM (own share), LV, MD, RW.
    assert len(lines) == 28
    first = lines.iloc[0]
    assert (first.code, first.nummer, first.regel, first.regelsoort) == (
        "DE",
        "IK-2024-0001",
        1,
        "netwerk",
    )
    assert first.bedrag == D("17133.00")  # half of Delft's € 34.266
    totals = lines.groupby("code", sort=False)["bedrag"].sum().to_dict()
    assert totals == {
        "DE": D("21980.04"),
        "PN": D("11622.85"),
        "WE": D("23125.30"),
        "ZM": D("24740.81"),
        "LV": D("3330.67"),
        "MD": D("1363.92"),
        "RW": D("1579.41"),
    }
    assert lines.loc[lines.code == "ZM", "soort"].unique().tolist() == ["eigen aandeel"]
    project = lines[lines.kenmerk == "VB-2024-001"]
    assert all(type(v) is date for v in project.kostendatum)
    assert all(type(v) is Decimal for v in project.kostenbedrag)
    _no_floats(lines)
    assert inkoopkracht_xl.invoice_lines_frame(run.invoices).equals(lines)


def test_the_registers_runs_and_invoices(settled):
    out, run = settled
    (recorded,) = inkoopkracht_xl.runs(out)
    assert (recorded.id, recorded.batch, recorded.period) == (run.run_id, "2024-H1", "2024-H1")
    assert set(recorded.inputs) == {"Aanbestedingskalender 2024.xlsx", "Begroting 2024.xlsx"}
    assert type(recorded.created_at) is datetime
    runs = inkoopkracht_xl.runs_frame(out)
    assert list(runs.index) == [run.run_id]
    invoices = inkoopkracht_xl.register_invoices_frame(out)
    assert invoices["nummer"].tolist() == [
        "IK-2024-0001",
        "IK-2024-0002",
        "IK-2024-0003",
        "",  # Zoetermeer, the penvoerder: its own share has no number
        "IK-2024-0004",
        "IK-2024-0005",
        "IK-2024-0006",
    ]
    delft = invoices.iloc[0]
    assert (delft.totaal, delft.factuurdatum, delft.status) == (
        D("21980.04"),
        date(2024, 7, 1),
        "concept",
    )
    assert type(delft.vervaldatum) is date
    # Invoices plus own share are the period's costs: € 65.517,50 network (half of € 131.035)
    # plus the project costs divided now, as the run's invoices add up too.
    settlement = run.settlement
    assert settlement.network_due == D("65517.50")
    assert invoices["totaal"].sum() == settlement.network_due + settlement.costs_billed
    assert invoices["totaal"].sum() == sum(i.total for i in run.invoices) == D("87743.00")
    _no_floats(invoices)
    assert inkoopkracht_xl.register_invoices_frame(out, year=2025).empty
    assert inkoopkracht_xl.register_messages_frame(out).empty


def test_the_commands_functions_on_a_settled_folder(settled, tmp_path):
    out, run = settled
    found = inkoopkracht_xl.settlement_status(out, 2024).as_json()
    (year,) = found["jaren"]
    h1, h2 = year["perioden"]
    assert (h1["periode"], h1["afgerekend"], h2["periode"], h2["afgerekend"]) == (
        "2024-H1",
        True,
        "2024-H2",
        False,
    )
    # The six invoices (the own share has no number): € 87.743,00 - € 24.740,81 = € 63.002,19.
    assert h1["nummers"] == [f"IK-2024-000{n}" for n in range(1, 7)]
    assert D(h1["totaal"]) == D("63002.19")
    unchanged = inkoopkracht_xl.changes_since_settlement(out.parent, out)
    assert unchanged.changes == ()
    written = inkoopkracht_xl.write_templates(tmp_path / "nieuw")
    assert sorted(p.name for p in written) == sorted(p.name for p in (tmp_path / "nieuw").iterdir())
    with pytest.raises(InputRefused):  # never overwrites a filled-in workbook
        inkoopkracht_xl.write_templates(tmp_path / "nieuw")


def test_messages_sent_through_the_library_are_in_the_register(tmp_path):
    folder = tmp_path / "2024"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("uitvoer"))
    run = inkoopkracht_xl.settle_period(folder, "2024-H1", issue_date=date(2024, 7, 1))
    batch = inkoopkracht_xl.open_batch(run.folder)
    plan = inkoopkracht_xl.delivery_plan(batch)
    pending = [item for item in plan if item.pending]
    assert pending, "the shipped workbooks have addresses for every invoice"
    from inkoopkracht_xl.mail import SmtpSettings

    # Pijnacker-Nootdorp's only address refuses the message (550): it failed, the rest went.
    failing = next(item for item in pending if item.invoice.code == "PN")
    assert failing.cc == ()
    with smtp_server() as (mailbox, port):
        mailbox.refuse.add(failing.to[0])
        outcome = inkoopkracht_xl.send_batch(batch, SmtpSettings("127.0.0.1", port))
    assert [item.invoice.number for item, _ in outcome.failed] == [failing.invoice.number]
    messages = inkoopkracht_xl.register_messages_frame(folder / "uitvoer")
    states = dict(zip(messages["nummer"], messages["status"], strict=True))
    assert states == {
        item.invoice.number: "mislukt" if item is failing else "verzonden" for item in pending
    }
    assert all(isinstance(v, datetime) for v in messages["verzonden_op"])
    assert messages.loc[messages.nummer == "IK-2024-0001", "ontvangers"].item() == (
        "inkoop@delft.example.org",
        "crediteuren@delft.example.org",
    )
    invoices = inkoopkracht_xl.register_invoices_frame(folder / "uitvoer")
    shown = dict(zip(invoices["nummer"], invoices["status"], strict=True))
    assert shown["IK-2024-0002"] == "mislukt"
    assert shown["IK-2024-0001"] == "verzonden"
    assert shown[""] == "concept"  # the penvoerder's own share is never sent


def test_the_register_is_read_only_and_refuses_a_folder_without_one(tmp_path):
    with pytest.raises(InputRefused) as refused:
        inkoopkracht_xl.runs(tmp_path)
    assert "hier staat geen register (register.sqlite)" in str(refused.value)
    assert list(tmp_path.iterdir()) == []  # nothing created


# -- the package ---------------------------------------------------------------------------------


def test_every_public_function_says_its_parameters_result_and_errors():
    for name in api.__all__:
        value = getattr(api, name)
        if inspect.isclass(value):
            assert value.__doc__, name
            continue
        doc = inspect.getdoc(value) or ""
        assert "Parameters:" in doc, name
        assert "Returns:" in doc or "Yields:" in doc, name
        assert "Raises:" in doc, name
    for name in frames.__all__:
        assert inspect.getdoc(getattr(frames, name)), name


def test_the_package_exports_the_api_and_the_frames():
    exported = set(inkoopkracht_xl.__all__)
    assert set(api.__all__) | set(frames.__all__) | {"InputRefused", "__version__"} == exported
    for name in exported:
        assert getattr(inkoopkracht_xl, name) is not None
    assert inkoopkracht_xl.read_folder is api.read_folder
    assert inkoopkracht_xl.key_frame is frames.key_frame
    with pytest.raises(AttributeError):
        inkoopkracht_xl.no_such_function  # noqa: B018


_PROBE = """
import sys
import inkoopkracht_xl
inkoopkracht_xl.read_folder, inkoopkracht_xl.settle_period, inkoopkracht_xl.invoices
print("api", "pandas" in sys.modules)
from inkoopkracht_xl.cli import main
try:
    main(["verdeling", "workbooks/2024", "--json"], standalone_mode=False)
except SystemExit:
    pass
print("verdeling", "pandas" in sys.modules)
inkoopkracht_xl.key_frame
print("frames", "pandas" in sys.modules)
"""


def test_pandas_is_imported_only_for_a_dataframe():
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    probes = [
        line
        for line in done.stdout.splitlines()
        if line.split()[0] in ("api", "verdeling", "frames")
    ]
    assert probes == ["api False", "verdeling False", "frames True"]
