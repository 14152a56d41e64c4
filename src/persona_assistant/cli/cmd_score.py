"""placeholder: filled in by the score work."""
