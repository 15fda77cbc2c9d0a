"""Configuration failures: each stops start-up with one clear line."""


class ConfigError(Exception):
    """A setting is missing, malformed or inconsistent.

    The message names the environment variable and the problem. It never
    echoes a secret's value.
    """
