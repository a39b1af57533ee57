"""Typer's coercion of command-line values of the plain types, without building Pydantic adapters.

Entry point: ``install_plain_coercion(params)``, called on a command's parameters before
they are parsed. Typer coerces every parameter of the command being run through a Pydantic
``TypeAdapter`` that it builds on first use, defaults included: importing Pydantic and
building the adapters of one command costs ~0.1 s, a third of ``whuffie score``'s start-up
on a small file. whuffie's parameters are of five plain types (``str``, ``int``, ``Path``,
``list[str]``, ``list[Path]``) and flags (``bool``, whose True or False typer never coerces, and
whose missing value, None, is None here as in typer). For them this module computes what
typer's adapter computes: the text itself, the integer of plain decimal digits, the path
through typer's own path checks (``coerce_cli_path``, which needs no Pydantic for a ``Path``).
Any other value (an integer written otherwise, an empty or NUL-carrying path, a value of
another type) goes to typer's own coercion, built on first need, so every message about a
bad value is still typer's. tests/test_cli_coercion.py holds both to the same results.

This reads typer internals (``_runtime_param``, ``type_descriptor``); with a typer that lacks
them nothing is installed and typer coerces as it always does.
"""

from __future__ import annotations

import re
from pathlib import Path

# Typer's adapter reads "007", " 7" or "1_000" too; only the plain form is read here.
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_NOT_HANDLED = object()


def _kind(descriptor) -> str | None:
    """Which plain type a parameter has, or None when typer's own coercion must handle it."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
        return None
    if getattr(info, "min", None) is not None or getattr(info, "max", None) is not None:
        return None
    if getattr(info, "path_type", None) is not None or getattr(info, "resolve_path", False):
        return None
    return {str: "str", int: "int", bool: "bool", Path: "path", list[str]: "list_str", list[Path]: "list_path"}.get(
        descriptor.annotation)


class PlainCoercion:
    """A parameter's runtime coercion: the plain cases here, the rest by typer's own (built lazily)."""

    __slots__ = ("descriptor", "kind", "_typer")

    def __init__(self, descriptor, kind: str) -> None:
        self.descriptor = descriptor
        self.kind = kind
        self._typer = None

    def coerce(self, value, param, ctx):
        result = self.plain(value, param, ctx)
        if result is _NOT_HANDLED:
            return self.typer_coercion().coerce(value, param=param, ctx=ctx)
        return result

    def typer_coercion(self):
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer

    def plain(self, value, param, ctx):
        """The coerced value, or _NOT_HANDLED."""
        many = param.multiple or param.nargs == -1
        if value is None:  # typer's RuntimeParam.coerce: no value is () for many, else None
            return () if many else None
        if self.kind in ("list_str", "list_path"):
            if not many or type(value) not in (tuple, list):
                return _NOT_HANDLED
            items = [self._one(item, param, ctx, "str" if self.kind == "list_str" else "path") for item in value]
            return _NOT_HANDLED if any(item is _NOT_HANDLED for item in items) else items
        if many:
            return _NOT_HANDLED
        return self._one(value, param, ctx, self.kind)

    def _one(self, value, param, ctx, kind: str):
        if kind == "bool":  # a flag's True or False never reaches here; --help's missing value (None) does
            return _NOT_HANDLED
        if kind == "int":
            if type(value) is int:
                return value
            if type(value) is str and _PLAIN_INT.fullmatch(value):
                return int(value)
            return _NOT_HANDLED
        if type(value) is not str:
            return _NOT_HANDLED
        if kind == "str":
            return value
        if not value or "\x00" in value:
            return _NOT_HANDLED
        from typer._param_types import coerce_cli_path

        return coerce_cli_path(Path(value), self.descriptor.parameter_info, path_type=Path, param=param, ctx=ctx)


def install_plain_coercion(params: list) -> list:
    """Give each parameter of a plain type the coercion above (once); the others keep typer's."""
    for param in params:
        if getattr(param, "_runtime_param", _NOT_HANDLED) is not None:
            continue  # already built or installed, or a typer without this attribute
        descriptor = getattr(param, "type_descriptor", None)
        kind = _kind(descriptor) if descriptor is not None else None
        if kind is not None:
            param._runtime_param = PlainCoercion(descriptor, kind)
    return params
