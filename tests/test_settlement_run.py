"""The settlement run as a library call and as a command: who tunes the garbage collector."""

from __future__ import annotations

import gc
import json
from datetime import date

import pytest
from click.testing import CliRunner

from inkoopkracht_xl import settlement_run
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.manifest import MANIFEST, is_period_folder, manifest_run
from inkoopkracht_xl.settlement_run import run_settlement

from .scenario import Scenario
from .test_settle import K1, K2

H1_DATE = date(2024, 7, 1)


@pytest.fixture
def collector_state():
    """The test's own changes to the collector, undone whatever the outcome."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _watch_collector(monkeypatch) -> list[bool]:
    """Record whether the collector runs while the settlement reads its folder."""
    seen: list[bool] = []
    real = settlement_run.load_valid

    def load_valid(folder):
        seen.append(gc.isenabled())
        return real(folder)

    monkeypatch.setattr(settlement_run, "load_valid", load_valid)
    return seen


def _tracked(thing: object) -> bool:
    """`thing` is in one of the collector's generations (not frozen)."""
    return any(tracked is thing for tracked in gc.get_objects())


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_the_library_call_leaves_the_collector_as_it_found_it(
    tmp_path, monkeypatch, collector_state, enabled
):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    seen = _watch_collector(monkeypatch)
    marker = [folder]  # a caller's object, frozen with everything else the caller has
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert not _tracked(marker)  # frozen objects are in no generation
    if not enabled:
        gc.disable()

    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)

    assert gc.isenabled() is enabled
    assert not _tracked(marker)  # still frozen: the old run thawed what its caller froze
    # Nothing frozen since (the old run froze its inputs); frozen objects that were freed
    # (their last reference went) leave the count, so it may be a little lower.
    assert gc.get_freeze_count() <= frozen
    assert seen == [enabled]  # the library does not pause it either
    # It did settle: five invoices numbered in order (the penvoerder's own share has none).
    assert [i.number for i in run.billed] == [f"IK-2024-000{n}" for n in range(1, 6)]


def test_the_command_pauses_the_collector_for_the_run_only(tmp_path, monkeypatch, collector_state):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    out = tmp_path / "uit"
    seen = _watch_collector(monkeypatch)
    gc.enable()

    result = CliRunner().invoke(
        main,
        ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out), "--json"],
    )

    assert result.exit_code == 0, result.output
    assert seen == [False]  # paused while the command ran
    assert gc.isenabled()  # and running again after it
    assert len(json.loads(result.output)["facturen"]) == 6  # five invoices and the own share


def test_the_manifest_names_the_run_and_marks_the_period_folder(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    first = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    second = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)

    assert (first.run_id, second.run_id) == (1, 2)  # the register's runs, in order
    assert manifest_run(out / "2024-H1") == 2  # the folder belongs to the latest run
    assert is_period_folder(out / "2024-H1")
    assert not is_period_folder(out)  # the output folder holds the register, not a manifest
    (out / "2024-H1" / MANIFEST).write_text("{kapot", encoding="utf-8")
    assert manifest_run(out / "2024-H1") is None
