import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# recovery copies (anndesigner/ui/recovery.py) of the suite's windows go to a folder of its own,
# never the user's data folder; child processes inherit it
if "ANNDESIGNER_DATA_DIR" not in os.environ:
    import tempfile

    _DATA_DIR = os.environ["ANNDESIGNER_DATA_DIR"] = tempfile.mkdtemp(prefix="anndesigner-test-data-")
else:
    _DATA_DIR = None
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="session")
def qapp(qapp):
    """pytest-qt's application, with the garbage-collection policy the app runs
    with (anndesigner/ui/gcpolicy.py): collection between events only."""
    from anndesigner.ui import gcpolicy

    gcpolicy.install(qapp)
    return qapp


@pytest.fixture(autouse=True)
def no_leaked_windows(request):
    """Fail a test that leaves a visible top-level window behind."""
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    from anndesigner.ui import gcpolicy

    gcpolicy.collect_due()  # here, between tests, as the app's timer would between events
    app.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for w in left:
        w.close()
        w.deleteLater()
    app.processEvents()
    if left:
        pytest.fail(f"{request.node.name} left windows open: {[type(w).__name__ for w in left]}")


def pytest_sessionfinish(session, exitstatus):
    """Qt must not destroy clipboard data that Python created after Python has shut down."""
    if _DATA_DIR is not None:
        import shutil

        shutil.rmtree(_DATA_DIR, ignore_errors=True)
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:
            app.clipboard().clear()
            app.processEvents()
