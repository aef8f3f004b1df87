"""Whether a text shows a secret, or any part of one long enough to matter.

A secret leaks when any run of ``RUN`` of its characters appears, as it is or in the escaped forms a JSON
answer or a JSON log line gives it (``ensure_ascii`` escapes every non-ASCII character). Shorter runs are
common substrings of ordinary text and prove nothing. The run is counted in the secret's characters, not in
those of its escaped form, where one escaped character and its neighbours would already make eight. A secret
shorter than ``RUN`` leaks where it stands whole, not inside a longer word of letters and digits, as the
service hides it (connectors/runner.py): a word that merely holds it does not tell it.
"""
import json
import re

RUN = 8


def forms(text: str) -> set[str]:
    """The text as each kind of output may write it."""
    return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}


def shows(text: str, secret: str) -> bool:
    if len(secret) < RUN:
        return any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) for form in forms(secret))
    return any(form in text for start in range(len(secret) - RUN + 1) for form in forms(secret[start:start + RUN]))


def shows_in_bytes(data: bytes, secret: str) -> bool:
    """Whether raw bytes (a database file, a pickled object) hold a run of the secret, in UTF-8 or UTF-16."""
    texts = [data.decode("utf-8", "replace")] + [data[start:].decode("utf-16-le", "replace") for start in (0, 1)]
    return any(shows(text, secret) for text in texts)
