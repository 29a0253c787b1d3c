"""Citable releases of a dataset version: a Frictionless Data Package with Parquet and CSV copies,
a data card, a changelog, checksums and a zip. See ``docs/releases.md``."""

from __future__ import annotations

from exitscrape.release.build import Release, ReleaseError, build_release, read_registry

__all__ = ["Release", "ReleaseError", "build_release", "read_registry"]
