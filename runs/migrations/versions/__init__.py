"""Forward-only revisions of the run store schema, oldest first."""
