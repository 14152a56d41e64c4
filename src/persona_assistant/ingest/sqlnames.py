"""SQL names: quoting identifiers and string literals, and names no other relation or type has.

Design: pure functions with no state. A fresh name (`unique_name`) takes a random suffix, so no counter
lives in a module and two connections or threads can never be handed the same name.
"""

from __future__ import annotations

import uuid


def quote_ident(name: str) -> str:
    """A quoted SQL identifier: headers may hold anything."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def unique_name(prefix: str) -> str:
    """A name no other table, type or view has: prefix_<random hex>."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"
