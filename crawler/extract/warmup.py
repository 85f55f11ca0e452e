"""Imported once by the extraction workers' fork server, so that every worker it forks starts
with the extraction code imported and the language model loaded (about 0.5 s per worker)."""

from crawler.extract import page  # noqa: F401
from crawler.extract.metadata import _language_identifier

_language_identifier()
