"""The data UI: the data panel (panel.py), its previews (previews.py) and the CSV import dialog."""
