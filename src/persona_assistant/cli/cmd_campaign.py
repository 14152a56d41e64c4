"""placeholder: filled in by the campaign work."""
