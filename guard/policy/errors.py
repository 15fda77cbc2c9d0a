"""Policy failures: one clear line each, naming the file and what is wrong with it."""


class PolicyError(Exception):
    """The policy file is unreadable, malformed, or asks for something not allowed."""
