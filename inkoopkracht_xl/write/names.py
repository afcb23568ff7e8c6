"""File names made from user text: the rules live in filenames.py (below the checks, which
find two municipalities whose invoices would share a name); imported back for the writers."""

from __future__ import annotations

from ..filenames import invoice_filename, safe_filename

__all__ = ["invoice_filename", "safe_filename"]
