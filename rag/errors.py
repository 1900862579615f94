"""Errors the engine raises; each message says how to fix the problem. Only the edges print them."""


class RagError(Exception):
    """Base class: a user-facing problem with a fix in its message."""


class ConfigError(RagError):
    """Bad settings, flags or input (empty question, missing corpus folder)."""


class CorpusError(RagError):
    """The corpus folder is missing, empty or unreadable."""


class IndexMissingError(RagError):
    """No index on disk yet."""


class IndexMismatchError(RagError):
    """The index on disk was built with other settings, another embedder or another schema."""


class IndexCorruptError(RagError):
    """An index file is truncated or unreadable."""


class IndexLockedError(RagError):
    """Another process is writing the index."""


class ModelMissingError(RagError):
    """Model files or an optional dependency are missing."""
