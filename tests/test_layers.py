"""The import contract: every module of the package imports only from its own layer or lower ones.

The pipeline (STYLE.md) is read → model → check → allocate/settle → register → write → mail, with
the commands' orchestration above it, the library above that and the command line on top.
`LAYERS` lists each module once, lowest layer first; `violations` reads every module's imports
with `ast` (those inside functions and under ``if TYPE_CHECKING`` too) and names each import
that reaches up. A new module is in no layer until it is placed in `LAYERS`: the test says so.
"""

from __future__ import annotations

import ast
import shutil
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inkoopkracht_xl"
NAME = PACKAGE.name

# Lowest first. A module may import from its own layer and every layer before it, never after.
# Names are dotted paths inside the package ("read.values"), fnmatch patterns allowed ("write.*");
# "__init__" is the package itself (the library's names) and "__version__" its version string.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("__version__", "money", "layout", "model", "filenames")),
    ("errors and addresses", ("errors", "addresses")),
    ("read", ("read", "read.*")),
    ("rules", ("rules", "legal")),
    ("check", ("check", "validate")),
    ("allocate and settle", ("allocate", "settle", "changes")),
    # The rapport's data classes sit with the register they summarise (a YearReport holds its
    # Delivery rows), below both the writer and the command that builds them.
    ("register", ("register", "report_data")),
    ("write", ("locks", "write", "write.*", "einvoice", "libreoffice", "templates", "terminal")),
    ("mail", ("mail",)),
    (
        "orchestration",
        (
            "manifest",
            "recovery",
            "outputs",
            "settlement_run",
            "previous",
            "deliver",
            "status",
            "year_report",
            "next_year",
            "watch",
            "report",
        ),
    ),
    ("library", ("api", "frames", "__init__")),
    ("command line", ("cli", "__main__")),
)

# Upward imports still to be undone, (module, target) -> the reason. Empty: every module imports
# only downwards. An entry is a debt to pay off, never a way out of a failing test.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def module_name(path: Path, package: Path) -> str:
    """ "read/values.py" -> "read.values"; the package's own __init__.py -> "__init__"."""
    parts = path.relative_to(package).with_suffix("").parts
    if parts == ("__init__",):
        return "__init__"
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the layer holding `module`, None when it is in none."""
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatchcase(module, pattern) for pattern in patterns):
            return index
    return None


def _modules(package: Path) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def _target(base: str, name: str, modules: dict[str, Path]) -> str:
    """What `from <base> import <name>` depends on: the submodule `name` when there is one, else
    the package `base` itself ("" is the top package)."""
    if base == "" and name == "__version__":
        return "__version__"
    dotted = f"{base}.{name}" if base else name
    if dotted in modules:
        return dotted
    return base or "__init__"


def imports_of(path: Path, package: Path, modules: dict[str, Path]) -> list[tuple[int, str]]:
    """(line, module) for every import of the package's own modules in the file at `path`."""
    module = module_name(path, package)
    is_package = path.name == "__init__.py"
    here = [] if module == "__init__" else module.split(".")
    if not is_package:
        here = here[:-1]  # relative imports start from the module's package
    found: list[tuple[int, str]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                base = ".".join(base_parts + ([node.module] if node.module else []))
            elif node.module == package.name or (node.module or "").startswith(package.name + "."):
                base = node.module[len(package.name) + 1 :]
            else:
                continue
            if base and base not in modules:
                found.append((node.lineno, base))  # not a module: reported as missing
                continue
            found.extend((node.lineno, _target(base, alias.name, modules)) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package.name or alias.name.startswith(package.name + "."):
                    target = alias.name[len(package.name) + 1 :]
                    found.append((node.lineno, target or "__init__"))
    return list(dict.fromkeys(found))  # `from x import a, b` depends on x once


def violations(package: Path, known: dict[tuple[str, str], str] | None = None) -> list[str]:
    """Every broken rule of the contract, as a sentence naming the file, the line, the import and
    the layers; empty when the package keeps to its layers. An upward import listed in `known`
    (KNOWN_UPWARD unless given) is let through."""
    known = KNOWN_UPWARD if known is None else known
    modules = _modules(package)
    problems: list[str] = []
    for module, path in modules.items():
        where = path.relative_to(package.parent).as_posix()
        own = layer_of(module)
        if own is None:
            problems.append(
                f"{where}: module '{module}' is in no layer; place it in LAYERS in "
                "tests/test_layers.py, in the layer where it belongs"
            )
            continue
        for line, target in imports_of(path, package, modules):
            other = layer_of(target)
            if target not in modules and target != "__version__":
                problems.append(f"{where}:{line}: imports '{target}', not a module of {NAME}")
            elif other is None:
                problems.append(
                    f"{where}:{line}: imports '{target}', which is in no layer; place it in "
                    "LAYERS in tests/test_layers.py"
                )
            elif other > own and (module, target) not in known:
                problems.append(
                    f"{where}:{line}: '{module}' (layer {own}, {LAYERS[own][0]}) imports "
                    f"'{target}' (layer {other}, {LAYERS[other][0]}); a lower layer never "
                    "imports a higher one: move the code down or the import up"
                )
    return problems


def test_the_package_keeps_to_its_layers():
    problems = violations(PACKAGE)
    assert not problems, "\n".join(problems)


def test_every_layer_entry_names_a_module_that_exists():
    # A stale entry would let a future module with that name in without a decision.
    modules = set(_modules(PACKAGE)) | {"__version__"}
    stale = [
        pattern
        for _, patterns in LAYERS
        for pattern in patterns
        if not any(fnmatchcase(m, pattern) for m in modules)
    ]
    assert stale == []
    known = {pair for pair in KNOWN_UPWARD if pair[0] in modules and pair[1] in modules}
    assert known == set(KNOWN_UPWARD), "an exception in KNOWN_UPWARD names a module that is gone"


def test_the_layers_the_issue_names_hold():
    # Issue 15: read, model, rules, write, register, mail and the CLI only import downwards.
    order = [
        "model",
        "read.folder",
        "rules",
        "check",
        "settle",
        "register",
        "write.overview",
        "mail",
        "api",
        "cli",
    ]
    layers = [layer_of(m) for m in order]
    assert None not in layers
    assert layers == sorted(layers)
    assert len(set(layers)) == len(layers)  # each in a layer of its own, strictly above the last


def unneeded_exceptions(package: Path, known: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """The (module, target) pairs of `known` whose import no longer happens in `package`."""
    modules = _modules(package)
    happening = {
        (module, target)
        for module, path in modules.items()
        for _, target in imports_of(path, package, modules)
    }
    return sorted(set(known) - happening)


def test_known_upward_imports_are_still_needed():
    # An exception that no longer happens is removed, so that it cannot come back unnoticed.
    # The table is empty now (issue 15, item 4); the test below shows the check still bites.
    assert unneeded_exceptions(PACKAGE, KNOWN_UPWARD) == []


def _copy_package(tmp_path: Path) -> Path:
    copy = tmp_path / NAME
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "fonts"))
    assert violations(copy) == []  # the copy keeps to its layers, as the package does
    return copy


@pytest.mark.parametrize(
    ("file", "planted", "expected"),
    [
        # At the top of a reader: reading would import the whole command line.
        (
            "read/values.py",
            "from ..cli import main\n",
            "'read.values' (layer 2, read) imports 'cli' (layer 11, command line)",
        ),
        # Inside a function of the model, where a lazy import hides from a glance at the top.
        (
            "model.py",
            "\n\ndef _planted():\n    from .write.styles import Styles\n\n    return Styles\n",
            "'model' (layer 0, base) imports 'write.styles' (layer 7, write)",
        ),
        # The billing rules taking a helper from the settlement that uses them.
        (
            "rules.py",
            "from inkoopkracht_xl.settle import Period\n",
            "'rules' (layer 3, rules) imports 'settle' (layer 5, allocate and settle)",
        ),
        # The mail module reaching into the commands' orchestration.
        (
            "mail.py",
            "from . import deliver\n",
            "'mail' (layer 8, mail) imports 'deliver' (layer 9, orchestration)",
        ),
    ],
)
def test_a_planted_upward_import_breaks_the_contract(tmp_path, file, planted, expected):
    copy = _copy_package(tmp_path)
    target = copy / file
    text = target.read_text(encoding="utf-8")
    target.write_text(text + planted, encoding="utf-8")
    problems = violations(copy)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{NAME}/{file}:")
    assert expected in problems[0]
    # The line named is the planted import's own line.
    planted_line = next(
        number
        for number, content in enumerate(target.read_text(encoding="utf-8").splitlines(), 1)
        if number > text.count("\n") and "import" in content
    )
    assert problems[0].startswith(f"{NAME}/{file}:{planted_line}: ")


def test_a_known_upward_import_is_let_through_and_named_once_it_is_gone(tmp_path):
    copy = _copy_package(tmp_path)
    mail = copy / "mail.py"
    text = mail.read_text(encoding="utf-8")
    mail.write_text(text + "from . import deliver\n", encoding="utf-8")
    known = {("mail", "deliver"): "planted: mail reaches into the orchestration"}
    # Listed, the upward import passes; unlisted, it is the one problem.
    assert violations(copy, known) == []
    [problem] = violations(copy, {})
    assert "'mail' (layer 8, mail) imports 'deliver' (layer 9, orchestration)" in problem
    assert unneeded_exceptions(copy, known) == []
    # An entry for an import that does not happen is named; so is this one once the import goes.
    stale = {**known, ("read.values", "cli"): "never imported"}
    assert unneeded_exceptions(copy, stale) == [("read.values", "cli")]
    mail.write_text(text, encoding="utf-8")
    assert unneeded_exceptions(copy, stale) == [("mail", "deliver"), ("read.values", "cli")]


def test_a_module_in_no_layer_is_named_with_what_to_do(tmp_path):
    copy = _copy_package(tmp_path)
    (copy / "extras.py").write_text('"""Somewhere to put things."""\n', encoding="utf-8")
    assert violations(copy) == [
        f"{NAME}/extras.py: module 'extras' is in no layer; place it in LAYERS in "
        "tests/test_layers.py, in the layer where it belongs"
    ]
