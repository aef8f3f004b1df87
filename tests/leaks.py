"""Whether a text shows a secret, or any part of one long enough to matter.

A secret leaks when any run of ``RUN`` of its characters appears, as it is or in the escaped forms a JSON
answer or a JSON log line gives it (``ensure_ascii`` escapes every non-ASCII character). Shorter runs are
common substrings of ordinary text and prove nothing.
"""
import json

RUN = 8


def forms(secret: str) -> set[str]:
    """The secret as each kind of output may write it."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}


def shows(text: str, secret: str) -> bool:
    for form in forms(secret):
        run = min(RUN, len(form))
        if any(form[start:start + run] in text for start in range(len(form) - run + 1)):
            return True
    return False
