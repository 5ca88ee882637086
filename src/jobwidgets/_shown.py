"""How an error message shows a value the user passed: its repr, bounded.

A message must be built whatever the value: ``repr`` of an int with more than 4,300
digits raises ``ValueError`` (Python's limit on int-to-str conversion), and the repr of a
100,000-character string or a long list would drown the message. ``shown`` describes
such a huge int, and shortens long reprs as ``reprlib`` does.
"""

from __future__ import annotations

import reprlib

__all__ = ["shown"]

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxlevel = 3


def shown(value: object) -> str:
    """``repr(value)`` for an error message: bounded, and never raising for a huge int."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    try:
        return _repr.repr(value)
    except ValueError:  # a huge int inside a container
        return f"a {type(value).__name__} holding a huge int"
