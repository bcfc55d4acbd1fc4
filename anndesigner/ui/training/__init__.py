"""Training in the designer: the run off the GUI thread, its controls and its live views."""
