"""Job statuses: the seven states of qiskit's ``JobStatus``, with its messages, and how
every view presents them.

``STYLES`` is the one table of a status's presentation (label, icon, colour token, the
words before its elapsed time; its order is ``JobStatus``'s). The text views
(``jobwidgets.text``), the HTML snapshot (``jobwidgets.rows``) and the front end read it:
the front end through ``js/src/statuses.js`` and ``js/src/statuses.css``, generated from
it by ``write_front_end()`` and checked against it by ``tests/test_status.py``.
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COLOURS", "JOB_FINAL_STATES", "STYLES", "JobStatus", "StatusStyle"]


class JobStatus(enum.Enum):
    """The status of a job. Each value is qiskit's message for that status."""

    INITIALIZING = "job is being initialized"
    """The job is being set up and has not reached its backend yet."""
    QUEUED = "job is queued"
    """The backend accepted the job and it waits for a free slot."""
    VALIDATING = "job is being validated"
    """The backend checks the job before running it."""
    RUNNING = "job is actively running"
    """The job's work is being done now."""
    CANCELLED = "job has been cancelled"
    """Final: the job was cancelled before it finished."""
    DONE = "job has successfully run"
    """Final: the job finished and its result is available."""
    ERROR = "job incurred error"
    """Final: the job failed; its error says why."""

    _code: int
    """The status's position in this class (0-6): how the history's log of changes
    names it (see ``LOG_ENTRY``)."""

    @property
    def final(self) -> bool:
        """Whether no further status can follow this one."""
        return self in JOB_FINAL_STATES

    @property
    def icon(self) -> str:
        """A one-character symbol, shown beside the name (colour is never the only sign)."""
        return STYLES[self].icon


JOB_FINAL_STATES: tuple[JobStatus, ...] = (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR)
"""The statuses after which a job never changes again."""

for _code, _status in enumerate(JobStatus):
    _status._code = _code
del _code, _status

# How the history's log of status changes (bytes: nothing for the garbage collector to
# follow, and nothing to touch again when it is taken) says what changed:
LOG_ENTRY = struct.Struct("<qBd")
"""One change in that log: the job's record key, its code, the time."""
LOGGED_SUBMITTED = 16
"""Added to ``status._code``: the change stamped ``submitted_at``."""
LOGGED_STARTED = 32
"""Added to ``status._code``: the change stamped ``started_at``."""
LOGGED_NO_STATUS = 15
"""A code that changes no status (``submit()`` returned: ``15 | LOGGED_SUBMITTED``)."""


@dataclass(frozen=True)
class StatusStyle:
    """How every view shows one status."""

    label: str
    """The status's name as shown."""
    icon: str
    """One character beside the label, so that colour is never the only sign."""
    colour: str
    """A key of ``COLOURS``: the colour of the pill, the chip and the row's edge."""
    elapsed: str
    """The words before the elapsed time: ``queued 12s``, ``failed after 2.0s``."""


COLOURS: dict[str, tuple[str, str]] = {
    "muted": ("--jp-ui-font-color2", "#616161"),
    "warn": ("--jp-warn-color1", "#f57c00"),
    "info": ("--jp-info-color1", "#0097a7"),
    "brand": ("--jp-brand-color1", "#1976d2"),
    "success": ("--jp-success-color1", "#388e3c"),
    "error": ("--jp-error-color1", "#d32f2f"),
}
"""Colour token -> (the JupyterLab theme variable, the colour without a theme)."""

STYLES: dict[JobStatus, StatusStyle] = {
    JobStatus.INITIALIZING: StatusStyle("INITIALIZING", "…", "muted", "initializing"),
    JobStatus.QUEUED: StatusStyle("QUEUED", "◷", "warn", "queued"),
    JobStatus.VALIDATING: StatusStyle("VALIDATING", "◎", "info", "validating"),
    JobStatus.RUNNING: StatusStyle("RUNNING", "▶", "brand", "running"),
    JobStatus.CANCELLED: StatusStyle("CANCELLED", "⊘", "muted", "cancelled after"),
    JobStatus.DONE: StatusStyle("DONE", "✔", "success", "done in"),
    JobStatus.ERROR: StatusStyle("ERROR", "✖", "error", "failed after"),
}
"""The presentation of each status, in display and sort order (``JobStatus``'s)."""


def css_colour(token: str) -> str:
    """A CSS colour for ``token`` that follows the JupyterLab theme where there is one."""
    variable, fallback = COLOURS[token]
    return f"var({variable}, {fallback})"


# ------------------------------------------------------------ the front end's copy
_HEADER = (
    "Generated from src/jobwidgets/status.py (STYLES, COLOURS); do not edit. Regenerate with\n"
    "python -c 'import jobwidgets.status as s; s.write_front_end(\"js/src\")'"
)


def front_end_module() -> str:
    """The text of ``js/src/statuses.js``: the statuses and their styles, in order."""
    table = {
        status.name: {
            "label": style.label,
            "icon": style.icon,
            "colour": style.colour,
            "cls": f"jw-st-{status.name.lower()}",
            "elapsed": style.elapsed,
            "order": order,
            "final": status.final,
        }
        for order, (status, style) in enumerate(STYLES.items())
    }
    header = "".join(f"// {line}\n" for line in _HEADER.splitlines())
    body = json.dumps(table, indent=2, ensure_ascii=False)
    return f"{header}\nexport default {body};\n"


def front_end_css() -> str:
    """The text of ``js/src/statuses.css``: a colour variable per token, and each
    status's class (``jw-st-<status>``) setting ``--jw-st``."""
    lines = ["/* " + _HEADER.replace("\n", "\n * ") + " */", ".jw-root {"]
    lines += [f"  --jw-{token}: {css_colour(token)};" for token in COLOURS]
    lines.append("}")
    lines += [
        f".jw-st-{status.name.lower()} {{ --jw-st: var(--jw-{style.colour}); }}"
        for status, style in STYLES.items()
    ]
    return "\n".join(lines) + "\n"


def write_front_end(folder: str | Path) -> None:
    """Write ``statuses.js`` and ``statuses.css`` into ``folder`` (``js/src``)."""
    target = Path(folder)
    (target / "statuses.js").write_text(front_end_module(), encoding="utf-8")
    (target / "statuses.css").write_text(front_end_css(), encoding="utf-8")
