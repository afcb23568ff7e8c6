"""inkoopkracht-xl: cost settlement for the procurement cooperation Inkoopkracht ZHW."""

__version__ = "0.1.0"
