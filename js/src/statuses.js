// Generated from src/jobwidgets/status.py (STYLES, COLOURS); do not edit. Regenerate with
// python -c 'import jobwidgets.status as s; s.write_front_end("js/src")'

export default {
  "INITIALIZING": {
    "label": "INITIALIZING",
    "icon": "…",
    "colour": "muted",
    "cls": "jw-st-initializing",
    "elapsed": "initializing",
    "order": 0,
    "final": false
  },
  "QUEUED": {
    "label": "QUEUED",
    "icon": "◷",
    "colour": "warn",
    "cls": "jw-st-queued",
    "elapsed": "queued",
    "order": 1,
    "final": false
  },
  "VALIDATING": {
    "label": "VALIDATING",
    "icon": "◎",
    "colour": "info",
    "cls": "jw-st-validating",
    "elapsed": "validating",
    "order": 2,
    "final": false
  },
  "RUNNING": {
    "label": "RUNNING",
    "icon": "▶",
    "colour": "brand",
    "cls": "jw-st-running",
    "elapsed": "running",
    "order": 3,
    "final": false
  },
  "CANCELLED": {
    "label": "CANCELLED",
    "icon": "⊘",
    "colour": "muted",
    "cls": "jw-st-cancelled",
    "elapsed": "cancelled after",
    "order": 4,
    "final": true
  },
  "DONE": {
    "label": "DONE",
    "icon": "✔",
    "colour": "success",
    "cls": "jw-st-done",
    "elapsed": "done in",
    "order": 5,
    "final": true
  },
  "ERROR": {
    "label": "ERROR",
    "icon": "✖",
    "colour": "error",
    "cls": "jw-st-error",
    "elapsed": "failed after",
    "order": 6,
    "final": true
  }
};
