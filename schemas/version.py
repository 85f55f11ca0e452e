"""The installed versions of blogarchive and the libraries whose output a record depends on."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str:
    """The installed distribution's version, or "unknown" when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


VERSION = package_version("blogarchive")
