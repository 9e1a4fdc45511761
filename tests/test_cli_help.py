"""The command line's help is French and complete: every subcommand's `--help` documents each of its options and
arguments, and no English word of argparse (usage, section titles, -h, error messages) is left."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from cdv_core.__main__ import build_parser

# argparse's English, as Python writes it (help pages and error messages).
ENGLISH = ["usage:", "positional arguments", "optional arguments", "options:", "show this help message",
           "error:", "the following arguments are required", "invalid choice", "choose from", "expected one argument",
           "unrecognized arguments", "invalid int value"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    return int(exc.value.code or 0), out.getvalue() + err.getvalue()


COMMANDS = sorted(_subparsers(build_parser()))


def test_the_main_help_is_french():
    code, text = _run(["--help"])
    assert code == 0
    assert "usage : python -m cdv_core" in text and "afficher cette aide et quitter" in text
    assert [w for w in ENGLISH if w in text] == []
    for name in COMMANDS:
        assert name in text


@pytest.mark.parametrize("name", COMMANDS)
def test_every_subcommand_documents_each_option_in_french(name):
    sub = _subparsers(build_parser())[name]
    assert sub.description, name
    for action in sub._actions:
        assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)
    code, text = _run([name, "--help"])
    assert code == 0
    assert [w for w in ENGLISH if w in text] == [], text
    assert "usage : " in text and "afficher cette aide et quitter" in text
    for action in sub._actions:
        for option in action.option_strings:
            assert option in text
        if not action.option_strings:  # an argument: shown under its French name
            assert action.metavar and action.metavar in text and action.metavar == action.metavar.upper()


@pytest.mark.parametrize(("argv", "french"), [
    (["summary", "--db", "x.duckdb"], "arguments obligatoires manquants : --by"),
    (["frobnicate"], "choix invalide : 'frobnicate'"),
    (["engagements", "--db", "x.duckdb", "--annee", "deux-mille"], "valeur invalide : 'deux-mille'"),
    (["journal", "--db", "x.duckdb", "en-trop"], "arguments non reconnus : en-trop"),
    (["import", "--db"], "une valeur attendue"),
])
def test_usage_errors_are_french(argv, french):
    code, text = _run(argv)
    assert code == 2
    assert french in text and "erreur :" in text
    assert [w for w in ENGLISH if w in text] == [], text
