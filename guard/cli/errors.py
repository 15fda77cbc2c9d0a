"""CLI failures: printed as one line, exit status 2."""


class CliError(Exception):
    """A command could not do what was asked; the message says why in one line."""
