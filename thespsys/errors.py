"""The errors thespsys raises: one root, context carried as attributes."""

from __future__ import annotations


class ThespsysError(Exception):
    """Root of every error raised by thespsys itself."""


class ConfigurationError(ThespsysError, ValueError):
    """A setting is missing or malformed; ``setting`` names it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
