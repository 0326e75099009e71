"""User-facing errors.

Everything a user can get wrong (a file, a folder, a config key) raises `UserError`
with one line that names the thing and the fix. The CLI prints that line and exits
non-zero; tracebacks are kept for our own bugs.
"""


class UserError(Exception):
    """A problem with the user's input, printed as one line without a traceback."""
