"""placeholder: filled in by the chat work."""
