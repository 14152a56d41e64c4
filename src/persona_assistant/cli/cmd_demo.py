"""placeholder: filled in by the demo work."""
