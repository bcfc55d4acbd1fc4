"""The Qt (PySide6) front end. Everything Qt lives under this package."""
