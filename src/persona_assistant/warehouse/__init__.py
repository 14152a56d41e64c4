"""Analysis where the data lives: a warehouse table (or a DuckDB database table) as the deals history."""
