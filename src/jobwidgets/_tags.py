"""A job's tags: short labels given at submission (``run(..., tags=[...])``) or later
(``job.tags = (...)``), which views filter and group by.

``check_tags`` checks what a user gives and says what is wrong. ``TagsTrait`` is the
trait ``BaseJob.tags``: a tuple of str. Setting it does not write the trait on the
caller's thread; it hands the new value to the job's core (``_JobCore.set_tags``),
which delivers it to observers in order with the job's other changes, and tells the
history's recorder, as for every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import traitlets

from ._shown import shown

__all__ = ["MAX_TAGS", "MAX_TAG_LENGTH", "TagsTrait", "check_tags", "tags_of"]

MAX_TAGS = 32
"""The most tags one job may have."""

MAX_TAG_LENGTH = 64
"""The most characters of one tag."""


def check_tags(tags: object, what: str = "tags") -> tuple[str, ...]:
    """``tags`` as a tuple of distinct str, in the order given; None gives ``()``.

    Raises ``TypeError`` for anything but an iterable of str (a lone str included:
    pass ``["urgent"]``), ``ValueError`` for an empty or blank tag, one with a control
    character, one longer than ``MAX_TAG_LENGTH``, or more than ``MAX_TAGS`` of them.
    """
    if tags is None:
        return ()
    if isinstance(tags, str):
        msg = f"{what} must be an iterable of str, got the str {shown(tags)}: pass [{tags!r:.80}]"
        raise TypeError(msg)
    if isinstance(tags, bytes | bytearray | dict) or not isinstance(tags, Iterable):
        msg = f"{what} must be an iterable of str, such as ['nightly', 'gpu'], got {shown(tags)}"
        raise TypeError(msg)
    checked: dict[str, None] = {}
    for tag in tags:
        if not isinstance(tag, str):
            msg = f"{what} must hold str only, got {type(tag).__name__} {shown(tag)}"
            raise TypeError(msg)
        if not tag.strip():
            msg = f"{what} must not hold an empty or blank tag, got {shown(tag)}"
            raise ValueError(msg)
        if len(tag) > MAX_TAG_LENGTH:
            msg = (
                f"a tag may have at most {MAX_TAG_LENGTH} characters, got one of {len(tag)}: "
                f"{shown(tag)}"
            )
            raise ValueError(msg)
        if any(ord(c) < 32 or ord(c) == 127 for c in tag):
            msg = f"a tag must not hold control characters (newlines, tabs), got {shown(tag)}"
            raise ValueError(msg)
        checked[tag] = None
        if len(checked) > MAX_TAGS:
            msg = f"a job may have at most {MAX_TAGS} tags, got more in {what}"
            raise ValueError(msg)
    return tuple(checked)


class TagsTrait(traitlets.TraitType[tuple[str, ...], Any]):
    """The trait ``BaseJob.tags``: a tuple of str, changed through the job's core."""

    default_value: tuple[str, ...] = ()
    info_text = "a tuple of tags (str)"

    def validate(self, obj: Any, value: Any) -> tuple[str, ...]:
        return check_tags(value, self.name or "tags")

    def set(self, obj: Any, value: Any) -> None:
        """``job.tags = value``: checked here, then stored and delivered by the core."""
        from ._jobcore import core  # _jobcore imports nothing of this module's users

        core(obj).set_tags(obj, check_tags(value, self.name or "tags"))

    def store(self, obj: Any, value: tuple[str, ...]) -> None:
        """Write the value and notify observers: only the core's delivery calls this."""
        super().set(obj, value)


def tags_of(job: Any) -> list[str]:
    """The job's tags for a view: ``job.tags``, or what a subclass's own ``tags()``
    method returns (qiskit-ibmq-provider's ``IBMQJob.tags()``); ``[]`` if neither gives
    a list of str. Never raises."""
    try:
        tags = getattr(job, "tags", ())
        if callable(tags):
            tags = tags()
    except Exception:
        return []
    if not isinstance(tags, list | tuple | set | frozenset):
        return []
    return [tag for tag in tags if isinstance(tag, str)]
