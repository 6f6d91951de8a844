"""Exceptions for problems the user can fix (as opposed to bugs, which stay plain exceptions)."""


class SeqlabError(RuntimeError):
    """Base for errors a user can fix; the message says what went wrong and how to fix it."""


class DataError(SeqlabError):
    """Missing, corrupt or malformed data."""


class ConfigError(SeqlabError):
    """An option value that cannot work (a bad number, an unknown choice, an incompatible pair)."""


def print_error(error: BaseException | str) -> None:
    """A user error as the one line every entry point prints: ``error: <what and how to fix>``."""
    from rich.console import Console  # here, so that importing the error types stays light
    from rich.markup import escape  # a message may hold brackets: `logger=[csv,tensorboard]`

    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(str(error))}", highlight=False
    )
