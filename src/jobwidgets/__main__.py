"""``python -m jobwidgets <command>``; the one command is ``history``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] != "history":
        wrong = f"unknown command {args[0]!r}; " if args and args[0] not in ("-h", "--help") else ""
        print(
            f"{wrong}usage: python -m jobwidgets history [--status ERROR] [--since 2d] "
            "[--json | --csv | --clear] (python -m jobwidgets history --help for more)",
            file=sys.stderr if wrong or not args else sys.stdout,
        )
        return 2 if wrong or not args else 0
    from .history.cli import main as history

    return history(args[1:])


if __name__ == "__main__":
    sys.exit(main())
