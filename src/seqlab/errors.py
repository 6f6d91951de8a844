"""Exceptions for problems the user can fix (as opposed to bugs, which stay plain exceptions)."""


class SeqlabError(RuntimeError):
    """Base for errors a user can fix; the message says what went wrong and how to fix it."""


class DataError(SeqlabError):
    """Missing, corrupt or malformed data."""


class ConfigError(SeqlabError):
    """An option value that cannot work (a bad number, an unknown choice, an incompatible pair)."""
