"""The error every command turns into one message and exit code 2: bad input or an unusable resource.

Kept apart from the modules that raise it, so the CLI can catch it without importing them (and their start-up
cost) first.
"""


class CommsimError(Exception):
    """A problem the user can fix; its message names the file, URL or key and what is allowed."""
