"""The subcommands of the ``semlang`` command line, and how they are found and run.

Input: the command-line arguments (from :func:`semlang.cli.main`). Output: the exit status.

Each module of this package (names not starting with ``_``) defines ``COMMANDS``: a tuple of
:class:`Command`, each with its path (``("fit",)``, or ``("study", "micro-macro")`` for a
command under a group), a one-line help, a function that adds its arguments to an
:class:`argparse.ArgumentParser` and a function that runs it and returns the exit status. Adding a
command means adding a module; nothing here changes. A path of several words makes the group
(``semlang study ...``) on the fly; a :class:`Command` without ``run`` only describes a group.

Errors: every :class:`~semlang.errors.SemlangError`, and files that cannot be read, end the
command with exit status 2 and the message on stderr (no traceback). Any other exception is a bug
of semlang: exit status 3 and a short message asking for a report (the traceback only with
``--debug``). Ctrl-C and SIGTERM stop the command cleanly (worker processes ended, results files
kept) with exit status 130 and 143 (128 + the signal). Warnings of semlang
(:class:`~semlang.errors.SemlangWarning`) are printed on stderr as ``warning: ...``, each once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from semlang.errors import ModelError, SemlangError, SemlangWarning
from semlang.records import dataclass

EXIT_OK = 0
EXIT_NOT_CONVERGED = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
DEBUG_FLAG = "--debug"


@dataclass(frozen=True)
class Command:
    """One subcommand: where it sits, its help, its arguments and what it does."""

    path: tuple[str, ...]
    help: str
    configure: Callable[[argparse.ArgumentParser], None] | None = None
    run: Callable[[argparse.Namespace], int] | None = None
    description: str | None = None
    order: int = 100  # position in ``semlang --help`` (then alphabetical)


class UsageError(SemlangError):
    """A command-line mistake found by a command itself (exit status 2)."""


def discover() -> list[Command]:
    """Every command defined by the modules of this package, in help order."""
    found: list[Command] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "COMMANDS", ()))
    return sorted(found, key=lambda c: (len(c.path) > 1, c.order, c.path))


def build_parser(commands: list[Command] | None = None) -> argparse.ArgumentParser:
    """The ``semlang`` argument parser with every command (groups made as needed)."""
    from semlang import __version__

    parser = argparse.ArgumentParser(
        prog="semlang",
        description="Structural equation models from lavaan-style model files.",
    )
    parser.add_argument("--version", action="version", version=f"semlang {__version__}")
    parser.add_argument(
        DEBUG_FLAG,
        action="store_true",
        help="on an internal error, print the traceback (allowed anywhere on the line)",
    )
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {
        (): parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    }
    commands = discover() if commands is None else commands
    helps = {c.path: c for c in commands if c.run is None}
    for command in commands:
        if command.run is None:
            continue
        sub = _subparsers(groups, command.path[:-1], helps)
        child = sub.add_parser(
            command.path[-1],
            help=command.help,
            description=command.description or command.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if command.configure is not None:
            command.configure(child)
        child.set_defaults(_command=command, _parser=child)
    return parser


def _subparsers(groups, path: tuple[str, ...], helps: dict) -> argparse._SubParsersAction:
    if path in groups:
        return groups[path]
    parent = _subparsers(groups, path[:-1], helps)
    info = helps.get(path)
    text = info.help if info is not None else f"{' '.join(path)} commands"
    group = parent.add_parser(path[-1], help=text, description=text)
    groups[path] = group.add_subparsers(
        dest="_".join(("command", *path)), metavar="COMMAND", required=True
    )
    return groups[path]


def run(argv: list[str]) -> int:
    """Parse ``argv``, run the command; user errors give exit status 2, internal ones 3."""
    debug = DEBUG_FLAG in argv
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args([arg for arg in argv if arg != DEBUG_FLAG])
        if unknown:  # the command's own usage, not the top-level one
            args._parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as stop:  # --help, --version, or a usage error (argparse says which)
        return stop.code if isinstance(stop.code, int) else EXIT_USER_ERROR
    with reported_warnings(), terminated_as_interrupt():
        try:
            return args._command.run(args)
        except BrokenPipeError:  # the reader of stdout stopped early (``semlang fit ... | head``)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except SemlangError as error:
            report_error(error)
        except (OSError, UnicodeDecodeError) as error:
            report_error(error)
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (terminated_as_interrupt)
            return report_interrupt(stop)
        except Exception as error:  # anything else is a bug of semlang
            return report_internal_error(error, debug)
    return EXIT_USER_ERROR


@contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM stops it as Ctrl-C does (so it can clean up)."""
    from semlang.runner.stopping import raise_terminated

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report_interrupt(stop: KeyboardInterrupt) -> int:
    """Say that the command was stopped (and what was kept); the exit status 128 + signal."""
    from semlang.runner.stopping import signal_of

    text = str(stop) or "interrupted"
    print(f"\nstopped: {text}", file=sys.stderr)
    return 128 + signal_of(stop)


def report_internal_error(error: Exception, debug: bool) -> int:
    """A short note asking for a report (the traceback with ``--debug``); exit status 3."""
    from semlang import __version__

    if debug:
        traceback.print_exception(error, file=sys.stderr)
    where = "" if debug else f"; run again with {DEBUG_FLAG} to see the traceback"
    print(
        f"internal error: {type(error).__name__}: {error}\n"
        f"This is a bug in semlang {__version__}, not a mistake of yours. Please report it with "
        f"the command, the model and (if you can) the data{where}.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL_ERROR


def report_error(error: BaseException) -> None:
    """The message of a user error on stderr, as ``error: ...`` (model errors are located)."""
    if isinstance(error, ModelError):
        text = str(error)
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"error: {str(error.filename)!r}: {error.strerror or error}"
    elif isinstance(error, UnicodeDecodeError):
        text = f"error: the file is not text (UTF-8): {error.reason}"
    else:
        text = f"error: {error}"
    print(text, file=sys.stderr)


@contextmanager
def reported_warnings() -> Iterator[None]:
    """Print semlang's warnings as ``warning: ...`` lines on stderr, each message once."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, SemlangWarning):
            text = str(message)
            if text not in seen:
                seen.add(text)
                print(f"warning: {text}", file=sys.stderr)
            return
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.simplefilter("always", SemlangWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # numerical noise of the optimizer
        warnings.showwarning = show
        yield
