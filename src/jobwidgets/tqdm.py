"""``from jobwidgets.tqdm import tqdm``: tqdm that reports to the job it runs in.

Inside a job, ``tqdm(...)`` takes tqdm's arguments and shows nothing itself: its
fraction, ``n/total`` and rate go to the job's progress (``set_progress``), so the job's
row shows them. Outside a job it is ``tqdm.auto.tqdm``. Needs the ``tqdm`` extra
(``pip install 'jobwidgets[tqdm]'``).
"""

from __future__ import annotations

import io
from typing import Any

try:
    from tqdm.auto import tqdm as _auto_tqdm  # type: ignore[import-untyped,unused-ignore]
    from tqdm.std import tqdm as _std_tqdm  # type: ignore[import-untyped,unused-ignore]
except ImportError as exc:  # pragma: no cover - depends on the environment
    _msg = "jobwidgets.tqdm needs tqdm; install the tqdm extra: pip install 'jobwidgets[tqdm]'"
    raise ImportError(_msg) from exc

from ._remote import RunningJob
from .job import current_job

__all__ = ["tqdm", "trange"]


class tqdm(_std_tqdm):  # type: ignore[misc]
    """tqdm, reporting to the current job (see the module); outside a job, tqdm.auto's."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if current_job() is None:
            return _auto_tqdm(*args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._jobwidgets_job: RunningJob | None = current_job()
        kwargs["file"] = io.StringIO()  # the job's row shows it: nothing to draw
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Report to the job instead of drawing (tqdm calls it at most ``mininterval``)."""
        job = getattr(self, "_jobwidgets_job", None)
        if job is None:
            return True
        info = self.format_dict
        n, total, rate = info["n"], info["total"], info["rate"]
        unit = info.get("unit") or "it"
        text = f"{n}/{total}" if total else f"{n}"
        if info.get("prefix"):
            text = f"{info['prefix']}: {text}"
        if rate:
            text += f" {rate:.3g} {unit}/s"
        fraction = min(n / total, 1.0) if total else None
        job.set_progress(fraction, text)
        return True


def trange(*args: Any, **kwargs: Any) -> Any:
    """``tqdm(range(*args), **kwargs)``."""
    return tqdm(range(*args), **kwargs)
