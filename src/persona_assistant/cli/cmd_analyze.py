"""`analyze`: placeholder until the ingestion/analysis work lands."""
