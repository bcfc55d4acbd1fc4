"""Start the desktop application: ``anndesigner [FILE]``."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ANN Designer")
    app.setOrganizationName("ANN Designer")
    app.setApplicationDisplayName("ANN Designer")
    from . import gcpolicy

    gcpolicy.install(app)  # Python's garbage collector runs between events only
    return app


def run_gui(path: str | None = None) -> int:
    app = make_app()
    from .icons import icon
    from . import excepthook
    from .mainwindow import MainWindow

    app.setWindowIcon(icon("app"))
    window = MainWindow()
    excepthook.install(lambda: window)  # reported from the event loop, one box per distinct error
    # clipboard data made by Python must be released while Python still runs
    app.aboutToQuit.connect(lambda: QApplication.clipboard().clear())
    window.show()
    # work a crash or a kill left unsaved is offered first (a restored document replaces nothing)
    if not window.offer_recovery() and path:
        window.open_file(path, ask=False)
    window.raise_()
    return app.exec()
