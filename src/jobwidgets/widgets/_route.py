"""The subshell route's address in front ends built before it moved to
``jobwidgets.feed`` (``cancel`` and ``sync`` there); kept so such a page still cancels.
"""

from __future__ import annotations

from ..feed import cancel, sync

__all__ = ["cancel", "sync"]
