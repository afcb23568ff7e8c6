"""inkoopkracht-xl: cost settlement for the procurement cooperation Inkoopkracht ZHW.

As a library: the functions behind the commands (`read_folder`, `allocation_key`,
`settle_period`, `invoices`, ...) come from `inkoopkracht_xl.api`, the pandas DataFrames
(`key_frame`, `participation_frame`, ...) from `inkoopkracht_xl.frames`. Both are loaded on first
use (PEP 562), so `import inkoopkracht_xl` imports neither pandas nor the readers and writers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "InputRefused",
    "Message",
    "RegisteredInvoice",
    "Run",
    "__version__",
    "allocation_key",
    "calendar_frame",
    "changes_since_settlement",
    "check_folder",
    "confirm_arrived",
    "cost_lines_frame",
    "delivery_plan",
    "invoice_lines_frame",
    "invoices",
    "joins_frame",
    "key_frame",
    "key_report",
    "messages",
    "municipalities_frame",
    "open_batch",
    "open_register",
    "participation_frame",
    "participation_matrix",
    "populations_frame",
    "posts_frame",
    "prepare_next_year",
    "read_folder",
    "register_invoices_frame",
    "register_messages_frame",
    "runs",
    "runs_frame",
    "send_batch",
    "settle_period",
    "settlement_status",
    "watch_folder",
    "write_templates",
    "write_year_report",
]
# The module that defines each public name: the DataFrames in frames (pandas), the refusal in
# errors, everything else in api.
_HOME: dict[str, str] = {
    name: "frames" if name.endswith("_frame") else "errors" if name == "InputRefused" else "api"
    for name in __all__
    if name != "__version__"
}

if TYPE_CHECKING:
    from .api import (
        Message,
        RegisteredInvoice,
        Run,
        allocation_key,
        changes_since_settlement,
        check_folder,
        confirm_arrived,
        delivery_plan,
        invoices,
        key_report,
        messages,
        open_batch,
        open_register,
        participation_matrix,
        prepare_next_year,
        read_folder,
        runs,
        send_batch,
        settle_period,
        settlement_status,
        watch_folder,
        write_templates,
        write_year_report,
    )
    from .errors import InputRefused
    from .frames import (
        calendar_frame,
        cost_lines_frame,
        invoice_lines_frame,
        joins_frame,
        key_frame,
        municipalities_frame,
        participation_frame,
        populations_frame,
        posts_frame,
        register_invoices_frame,
        register_messages_frame,
        runs_frame,
    )


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562). No public name is also the name of
    a submodule: importing that submodule would replace the function on the package."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
