"""surreal-gen: typed Python packages generated from a SurrealDB schema."""

__version__ = "0.1.0"
