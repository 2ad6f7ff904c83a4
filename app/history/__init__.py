"""History: the audit log of every label change, its replay, and versioned undo."""
