"""Schema to code: introspection, the kind parser, naming, emitting and the CLI."""
