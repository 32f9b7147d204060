"""Typed setting values, strictly: from TOML (typed already) or from text
(environment variables, the applications' ``env``).

One parser for every setting, so that each refuses the same way and names the
setting and where it came from: ``admin_port = 1900.5`` is not an integer,
``pipelines = "3"`` in a TOML file is a string, ``THESPSYS_BATCH_SIZE=ten`` is
not a number.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from thespsys.errors import ConfigurationError

T = TypeVar("T", bool, int, float, str)

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}
_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def from_toml(setting: str, value: Any, kind: type[T]) -> T:
    """``value`` as TOML gave it, if it is of ``kind`` (an integer is a
    number too); else ``ConfigurationError`` naming ``setting``."""
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        raise _wrong(setting, value, kind)
    result: T = value
    return result


def from_text(setting: str, text: str, kind: type[T]) -> T:
    """``text`` (an environment variable, say) parsed as ``kind``."""
    word = text.strip().lower()
    result: Any
    if kind is str:
        result = text
    elif kind is bool and word in _TRUE | _FALSE:
        result = word in _TRUE
    elif kind is bool:
        raise _wrong(setting, text, kind)
    else:
        try:
            result = kind(word)
        except ValueError:
            raise _wrong(setting, text, kind) from None
    return cast(T, result)


def _wrong(setting: str, value: Any, kind: type) -> ConfigurationError:
    return ConfigurationError(setting, f"expected {_NAMES[kind]}, got {value!r}")
