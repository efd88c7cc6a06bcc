"""Built-in importers, one module per format; each registers itself with ``@importer``."""
