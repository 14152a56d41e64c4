"""placeholder: filled in by the export work."""
