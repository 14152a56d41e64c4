#!/usr/bin/env bash
# The warehouse tests start a throwaway PostgreSQL server (tests/pg_server.py); install Debian's when missing.
set -euo pipefail
if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # A registry hiccup must not fail the whole run: the warehouse tests then skip, and say why.
    apt-get update -q && apt-get install -y -q postgresql >/dev/null \
        || echo "PostgreSQL could not be installed: the warehouse tests will skip" >&2
else
    echo "PostgreSQL is missing and cannot be installed here: the warehouse tests will skip" >&2
fi
