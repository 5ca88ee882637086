"""The job core's dependence on traitlets' private storage, checked loudly."""

from __future__ import annotations

import traitlets

from _jobs import PushJob
from jobwidgets import JobStatus


def test_traitlets_still_keeps_values_and_notifiers_where_the_core_reads_them() -> None:
    """The core stores values of unobserved jobs in ``_trait_values`` and checks
    ``_trait_notifiers`` for observers. If this fails, traitlets changed its private
    storage: adapt ``jobwidgets._jobcore.apply`` and ``_JobCore.report``, then the
    upper bound of the traitlets requirement in pyproject.toml."""
    job = PushJob()
    assert isinstance(job._trait_values, dict), "traitlets' _trait_values changed"
    assert isinstance(job._trait_notifiers, dict), "traitlets' _trait_notifiers changed"
    assert not job._trait_notifiers, "a fresh job must have no notifiers"
    job.push(JobStatus.QUEUED)
    assert job._trait_values["state"] is JobStatus.QUEUED
    assert job.state is JobStatus.QUEUED  # a value stored directly is what the trait reads

    seen: list[object] = []
    job.observe(lambda change: seen.append(change["new"]), "state")
    assert job._trait_notifiers, "traitlets no longer records observers in _trait_notifiers"
    job.push(JobStatus.RUNNING)
    assert seen == [JobStatus.RUNNING]


def test_the_installed_traitlets_is_within_the_tested_range() -> None:
    major, minor = (int(part) for part in traitlets.__version__.split(".")[:2])
    assert (5, 14) <= (major, minor) < (6, 0), traitlets.__version__
