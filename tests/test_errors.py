"""The one-line quoting of a library's exception in our errors."""

from img2img.errors import first_line


def test_first_line_keeps_only_the_first_line_and_cuts_it():
    exc = ValueError("  the reason\nTraceback (most recent call last):\n  ...")
    assert first_line(exc) == "the reason"
    assert first_line(ValueError("x" * 300)) == "x" * 200
    assert first_line(ValueError("x" * 300), limit=None) == "x" * 300


def test_first_line_names_the_type_when_asked_or_when_the_message_is_empty():
    assert first_line(KeyError()) == "KeyError"
    assert first_line(OSError("no space"), typed=True) == "OSError: no space"
    assert first_line(RuntimeError(""), typed=True) == "RuntimeError"
