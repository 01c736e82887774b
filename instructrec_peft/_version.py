"""The package version, in one place (the manifest records it in every run folder)."""

__version__ = "0.1.0"
