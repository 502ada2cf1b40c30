"""The ``neural-network`` command.

Commands:

``examples``
    Walk through both articles' worked examples and exercises with this library.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from neural_network import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neural-network",
        description="Neural networks from scratch in NumPy, with losses exact to the last bit.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "examples",
        help="walk through both articles' examples and exercises, step by step",
        description="Run both articles' worked examples and exercises with this library, "
        "printing inputs, predictions, losses and gradients, with the exact values.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for usage errors)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "examples":
        from neural_network.cli.examples import run

        run()
        return 0
    parser.error("choose a command, e.g. 'neural-network examples' (see --help)")
