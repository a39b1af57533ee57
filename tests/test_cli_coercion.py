"""cli_coercion computes what typer's own (Pydantic) coercion computes, for every value it takes on."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._coercion import build_runtime_param

from whuffie import cli
from whuffie.cli_coercion import PlainCoercion, install_plain_coercion

COMMAND = typer.main.get_command(cli.app)


def _params_of_kind(kind: str):
    found = []
    for command in COMMAND.commands.values():
        for param in command.params:
            installed = install_plain_coercion([param])[0]._runtime_param
            if isinstance(installed, PlainCoercion) and installed.kind == kind:
                found.append(param)
    assert found, kind
    return found


def _same(param, value):
    """Both coercions of ``value``: equal results, or both refuse (typer's message)."""
    ctx = typer.Context(COMMAND)
    ours = PlainCoercion(param.type_descriptor, param._runtime_param.kind)
    theirs = build_runtime_param(param.type_descriptor)
    try:
        expected = theirs.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # noqa: BLE001 - the refusal itself is what is compared
        with pytest.raises(type(exc)) as raised:
            ours.coerce(value, param=param, ctx=ctx)
        assert str(raised.value) == str(exc)
        return
    got = ours.coerce(value, param=param, ctx=ctx)
    assert got == expected and type(got) is type(expected)


def test_every_parameter_of_whuffie_has_a_plain_coercion():
    """Every command's parameters take the Pydantic-free path (else the start-up pays for Pydantic)."""
    for command in COMMAND.commands.values():
        for param in install_plain_coercion(list(command.params)):
            assert isinstance(param._runtime_param, PlainCoercion), (command.name, param.name)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["0", "-0", "7", "007", " 7", "1_000", "+3",
                                                                  "12345678901234567890", "-5", "3.0", "x"]),
                 st.integers(-10**20, 10**20)))
def test_int_values_coerce_as_typer_does(value):
    _same(_params_of_kind("int")[0], value)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=12)))
def test_text_values_coerce_as_typer_does(value):
    _same(_params_of_kind("str")[0], value)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.sampled_from(["", "-", ".", "/", "examples", "README.md", "no such file", "a\x00b"]),
                 st.text(alphabet="ab/.-", max_size=8)))
def test_path_values_coerce_as_typer_does(value):
    for param in _params_of_kind("path")[:3]:
        _same(param, value)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.lists(st.text(max_size=6), max_size=3).map(tuple), st.text(max_size=4)))
def test_repeated_values_coerce_as_typer_does(value):
    param = next(p for p in _params_of_kind("list_str") if p.multiple)
    _same(param, value)


def test_a_list_of_paths_coerces_as_typer_does():
    param = _params_of_kind("list_path")[0]
    for value in (None, (), ("README.md",), ("examples", "nothing here"), ("",)):
        _same(param, value)
