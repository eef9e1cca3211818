"""The runtime that generated code imports. Never imports jinja2, click or the code generator."""
