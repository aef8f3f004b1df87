"""Why Active Directory refused a bind, in words: the sub-code its invalidCredentials message carries
("80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 533, v1db1"), which is the
Windows error of the logon ([MS-ERREF] 2.2)."""
import re

SUB_CODE = re.compile(r"\bdata ([0-9a-f]{3,8})\b", re.IGNORECASE)
REASONS = {
    "525": "there is no such account",
    "52e": "the password is wrong",
    "530": "the account may not log on at this time",
    "531": "the account may not log on from this workstation",
    "532": "the account's password has expired",
    "533": "the account is disabled",
    "701": "the account has expired",
    "773": "the account must change its password before it may log on",
    "775": "the account is locked out",
}


def reason(message: str) -> str | None:
    """What the sub-code in ``message`` means, with the code itself, or None when it holds none this knows."""
    found = SUB_CODE.search(message or "")
    if not found or found[1].lower() not in REASONS:
        return None
    return f"{REASONS[found[1].lower()]} (Active Directory's sub-code {found[1].lower()})"
