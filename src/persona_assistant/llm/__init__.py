"""The model path: one structured-output loop, endpoint quirks and capacity, cache, log and redaction.

Kept free of imports so that the CLI can read `DEFAULT_CONCURRENCY` for `--help` without loading
asyncio and the client.
"""

DEFAULT_CONCURRENCY = 16  # the ceiling of a campaign run (--concurrency)
