"""User-facing errors.

Everything a user can get wrong (a file, a folder, a config key) raises `UserError`
with one line that names the thing and the fix. The CLI prints that line and exits
non-zero; tracebacks are kept for our own bugs.
"""


class UserError(Exception):
    """A problem with the user's input, printed as one line without a traceback."""


def first_line(exc: BaseException, *, typed: bool = False, limit: int | None = 200) -> str:
    """The first line of an exception's message, for a one-line error that quotes a library's reason.

    Libraries raise multi-line messages (tracebacks of workers, hints); one line keeps ours readable.
    `typed` prefixes the exception type, for errors we did not expect; an empty message gives the type."""
    lines = str(exc).strip().splitlines()
    text = lines[0].rstrip() if lines else ""
    if typed:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    elif not text:
        text = type(exc).__name__
    return text[:limit] if limit else text
