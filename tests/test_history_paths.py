"""Notebook paths between the front end (relative to the server's root) and the history
(the absolute path Jupyter Server gives its kernels in ``JPY_SESSION_NAME``)."""

from __future__ import annotations

from jobwidgets.history.server import front_end_path, server_path


def test_a_relative_notebook_filter_names_the_path_kernels_record() -> None:
    assert server_path("/srv/root", "work/a.ipynb") == "/srv/root/work/a.ipynb"
    assert server_path("/srv/root", "/srv/root/a.ipynb") == "/srv/root/a.ipynb"
    assert server_path("", "a.ipynb") == "a.ipynb"


def test_records_show_notebooks_relative_to_the_root() -> None:
    assert front_end_path("/srv/root", "/srv/root/work/a.ipynb") == "work/a.ipynb"
    assert front_end_path("/srv/root/", "/srv/root/a.ipynb") == "a.ipynb"
    # elsewhere, or not absolute: as recorded
    assert front_end_path("/srv/root", "/srv/rootless/a.ipynb") == "/srv/rootless/a.ipynb"
    assert front_end_path("/srv/root", "a.ipynb") == "a.ipynb"
    assert front_end_path("/srv/root", None) is None
    assert front_end_path("", "/srv/root/a.ipynb") == "/srv/root/a.ipynb"
