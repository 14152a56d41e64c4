"""persona-assistant: evidence-backed ICPs, buyer personas, copy and lead scores."""

__version__ = "0.1.0"
