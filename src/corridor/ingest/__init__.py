"""corridor.ingest."""
