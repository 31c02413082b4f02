"""ssgen: a static site generator for Sanity content with incremental, webhook-driven rebuilds."""

__version__ = "0.1.0"
