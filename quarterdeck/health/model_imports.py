"""The model libraries, imported on a thread of their own while a run's first stages work.

Loading a kept model imports scikit-learn, SciPy and joblib first: about 1,500 modules and 3 s
in a fresh process, a tenth of a day's run at 20,000 accounts. The run's first stages spend
most of their time in the warehouse, which releases Python's interpreter lock while it works,
so importing the libraries beside them hides most of that time. The run joins the thread
before it loads or trains a model; the import is then done (or is finished by the joining
thread itself, as an import always is).

Example:
    warm = import_in_background()
    ...                       # warehouse stages
    warm.join()               # before the first model is loaded
"""

from __future__ import annotations

import importlib
import threading

#: The modules a kept or newly trained model needs (its estimators, calibration, pickling).
MODEL_MODULES = (
    "joblib",
    "sklearn.calibration",
    "sklearn.compose",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
)


def _import_all() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the joining thread imports it again and reports
            return


def import_in_background() -> threading.Thread:
    """Start importing `MODEL_MODULES` on a daemon thread; returns it for joining."""
    thread = threading.Thread(target=_import_all, name="model-imports", daemon=True)
    thread.start()
    return thread
