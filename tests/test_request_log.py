"""Observability and response headers: one JSON line per request, the request id, errors logged once
with a traceback, nothing secret in any line, protective headers and no server banner."""
import json
import logging
import urllib.request

import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from edge.log_format import JSONFormatter
from leaks import shows
from servers import gunicorn

PASSWORD = "s3cur3p@ssw0rd"


def lines(caplog) -> list[dict]:
    return [json.loads(JSONFormatter().format(record)) for record in caplog.records]


def request_lines(caplog) -> list[dict]:
    return [line for line in lines(caplog) if line["logger"] == "jim.request"]


def test_one_line_per_request_with_its_fields(client, admin_key, ldap_system, caplog):
    caplog.set_level(logging.INFO)
    response = client.get(f"{SYSTEMS}/1", headers={"X-Api-Key": admin_key})
    [line] = request_lines(caplog)
    assert line["requestId"] == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", f"{SYSTEMS}/1", 200)
    assert line["keyPrefix"] == admin_key[:12]
    assert isinstance(line["durationMs"], float) and line["durationMs"] >= 0
    assert line["time"].endswith("Z")


def test_nothing_secret_is_logged(client, admin, admin_key, ldap_system, caplog):
    caplog.set_level(logging.DEBUG)
    body = {"settingValues": {"3": {"stringValue": PASSWORD}}}
    client.put(f"{SYSTEMS}/1?filter={PASSWORD}", json=body, headers=admin)
    client.get(SYSTEMS, headers={"X-Api-Key": admin_key + "x"})  # a wrong key, as someone mistypes it
    logged = caplog.text + "".join(JSONFormatter().format(record) for record in caplog.records)
    assert not shows(logged, PASSWORD) and not shows(logged, admin_key[12:])  # its prefix is shown
    assert [line["status"] for line in request_lines(caplog)] == [200, 401]
    assert "keyPrefix" not in request_lines(caplog)[1]


@pytest.mark.parametrize(
    "supplied, echoed",
    [
        ("abc-123_DEF.4:5", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("has space", False),
        ("semi;colon", False),
        ("", False),
        ("<script>", False),
    ],
)
def test_a_sane_request_id_is_taken_from_the_client(client, supplied, echoed):
    response = client.get("/api/v1/health", headers={"X-Request-ID": supplied} if supplied else {})
    if echoed:
        assert response.headers["X-Request-ID"] == supplied
    else:
        assert response.headers["X-Request-ID"] != supplied
        assert len(response.headers["X-Request-ID"]) == 32


def test_generated_request_ids_differ(client):
    assert len({client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(5)}) == 5


def test_an_unexpected_error_is_logged_once_with_its_id_and_traceback(app, caplog):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/broken", view_func=broken)
    caplog.set_level(logging.INFO)
    response = app.test_client().get("/api/v1/broken", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500 and response.json["code"] == "INTERNAL_ERROR"
    assert "a bug" not in response.get_data(as_text=True)
    errors = [line for line in lines(caplog) if "traceback" in line]
    assert len(errors) == 1
    assert errors[0]["requestId"] == "trace-me" and "RuntimeError: a bug" in errors[0]["traceback"]
    assert request_lines(caplog)[0]["status"] == 500


@pytest.mark.parametrize("path, status", [("/api/v1/health", 200), (SYSTEMS, 401), ("/nowhere", 404)])
def test_every_answer_carries_the_protective_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "X-Request-ID" in response.headers


@pytest.mark.slow
def test_gunicorn_writes_one_json_line_per_request_and_no_banner(
    app, database_url, admin_key, ldap_system, tmp_path
):
    log_path = tmp_path / "gunicorn.log"
    url = database_url.replace("+psycopg", "")
    with gunicorn(url, TEST_ENCRYPTION_KEY, "--workers", "2", log_path=log_path) as base:
        for number in range(3):
            request = urllib.request.Request(
                f"{base}{SYSTEMS}/1", headers={"X-Api-Key": admin_key, "X-Request-ID": f"gunicorn-{number}"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.headers["X-Request-ID"] == f"gunicorn-{number}"
                assert response.headers["Server"] is None
                assert response.headers["Cache-Control"] == "no-store"
    # Every line, gunicorn's own included, is JSON.
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert any(line["logger"] == "gunicorn.error" for line in logged)
    ours = [line for line in logged if line.get("requestId", "").startswith("gunicorn-")]
    assert sorted(line["requestId"] for line in ours) == ["gunicorn-0", "gunicorn-1", "gunicorn-2"]
    assert all(line["keyPrefix"] == admin_key[:12] and line["status"] == 200 for line in ours)
    assert not shows(log_path.read_text(), admin_key[12:])


def test_a_hostile_path_stays_on_one_ascii_line(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/caf%C3%A9%0A%7B%22status%22%3A200%7D")
    [record] = [record for record in caplog.records if record.name == "jim.request"]
    formatted = JSONFormatter().format(record)
    assert "\n" not in formatted and formatted.isascii()
    assert json.loads(formatted)["path"] == '/café\n{"status":200}'


@pytest.mark.slow
def test_gunicorn_access_log_only_when_asked_for(app, database_url, tmp_path):
    """Off by default (the app's line is the request's log), and still there for an operator who asks."""
    url = database_url.replace("+psycopg", "")
    access_log = tmp_path / "access.log"
    for args in ((), ("--access-logfile", str(access_log))):
        log_path = tmp_path / "gunicorn.log"
        with gunicorn(url, TEST_ENCRYPTION_KEY, *args, log_path=log_path) as base:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=30).close()
        assert "gunicorn.access" not in log_path.read_text()
    assert '"GET /api/v1/health HTTP/1.1" 200' in access_log.read_text()
