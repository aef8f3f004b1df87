"""What every error answer must look like: the contract's one envelope."""
from datetime import UTC, datetime, timedelta

ENVELOPE_FIELDS = {"code", "message", "details", "validationErrors", "timestamp"}


def assert_error(response, status: int, code: str) -> dict:
    """The response is ``status`` with the envelope of ``code``; returns the envelope."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ENVELOPE_FIELDS, body
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"].strip()
    assert body["details"] is None
    if code == "VALIDATION_ERROR":
        assert body["validationErrors"], body
        assert all(isinstance(messages, list) and messages for messages in body["validationErrors"].values())
    else:
        assert body["validationErrors"] is None
    assert body["timestamp"].endswith("Z")
    stamp = datetime.fromisoformat(body["timestamp"].removesuffix("Z")).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    return body
