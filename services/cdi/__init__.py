"""CDI Monitor: a streaming crime data integrity monitor."""

__version__ = "0.1.0"
