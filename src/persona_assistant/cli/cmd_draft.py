"""placeholder: filled in by the draft work."""
