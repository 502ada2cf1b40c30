"""The ``neural-network`` command.

Commands (each in a module of its own, with ``add_parser(commands)`` and ``run(arguments)``):

``train``
    Train a network on a CSV or Parquet file, or on the bundled breast-cancer data.
``evaluate``, ``predict``
    Measure a saved model on a file, or write its predictions.
``loss``
    Any loss of the package over CSV or Parquet files of any size, streamed.
``examples``
    Walk through both series' worked examples with this library, step by step
    (``examples pure``: the pure-Python series, from one neuron to XOR learned).

Errors a person can act on (a missing file or column, bad data, a loss that does not
fit the target) are printed as one message with exit status 2, never a traceback;
anything unexpected exits with status 1. The heavy libraries (Rich, PyArrow,
Matplotlib) are imported by the commands that use them, never by ``import neural_network``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from neural_network import __version__
from neural_network.cli._errors import UNEXPECTED, USAGE_OR_DATA, CommandError
from neural_network.errors import InvalidInputError, InvalidTypeError

CLI_LIBRARIES = {"pyarrow": "PyArrow", "rich": "Rich", "matplotlib": "Matplotlib"}
"""The libraries of the ``cli`` extra, which ``pip install .`` alone does not install, by their names."""

COMMANDS = ("train", "evaluate", "predict", "loss", "examples")
"""Commands whose module ``neural_network.cli.<name>`` defines ``add_parser`` and ``run``."""


class Command(Protocol):
    """What a command's module provides."""

    def add_parser(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add the command's parser (with its help and arguments) to ``commands``."""

    def run(self, arguments: argparse.Namespace) -> int:
        """Carry out the command; return the exit status, or raise ``CommandError``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neural-network",
        description="Neural networks from scratch in NumPy, with losses exact to the last bit.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _command_module(name)
        if module is not None:
            module.add_parser(commands)
    return parser


def _command_module(name: str) -> Command | None:
    try:
        return cast(Command, importlib.import_module(f"neural_network.cli.{name}"))
    except ModuleNotFoundError as error:
        if error.name == f"neural_network.cli.{name}":
            return None  # a command not built yet
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for usage and data errors)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.error("choose a command, e.g. 'neural-network train' or 'neural-network examples' (see --help)")
    module = _command_module(arguments.command)
    if module is None:  # unreachable: argparse only accepts the commands it was given
        parser.error(f"unknown command {arguments.command!r}")
    try:
        return module.run(arguments)
    except CommandError as error:
        print(f"neural-network {arguments.command}: {error}", file=sys.stderr)
        return error.status
    except (InvalidInputError, InvalidTypeError) as error:  # the library's own clear messages
        print(f"neural-network {arguments.command}: {error}", file=sys.stderr)
        return USAGE_OR_DATA
    except KeyboardInterrupt:
        print(f"neural-network {arguments.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # anything else is a bug: say so in one line, no traceback
        missing = _missing_extra(error)
        if missing is not None:
            print(f"neural-network {arguments.command}: {missing}", file=sys.stderr)
            return USAGE_OR_DATA
        print(
            f"neural-network {arguments.command}: unexpected error: {type(error).__name__}: {error}. "
            "This is a bug; please report it with the command you ran.",
            file=sys.stderr,
        )
        return UNEXPECTED


def _missing_extra(error: Exception) -> str | None:
    """The message for a library of the ``cli`` extra that is not installed, or None for any other error."""
    if not isinstance(error, ModuleNotFoundError) or error.name is None:
        return None
    library = CLI_LIBRARIES.get(error.name.partition(".")[0])
    if library is None:
        return None
    return (
        f"this command needs {library}, which is not installed: the command line's libraries come with "
        'the cli extra. Install them with: pip install "neural_network[cli]"'
    )
