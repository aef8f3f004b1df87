"""Starting the service as its users do: `scripts/serve` on a fresh checkout, where the seed's examples then work
verbatim, and the Procfile's web line as a PaaS runs it."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from leaks import shows
from servers import PROJECT, free_port, wait_until_live
from test_seed import SEED_NAME_AND_DESCRIPTION, SEED_SETTINGS

pytestmark = pytest.mark.slow
KEY_LINE = "export JIM_API_KEY="


def fresh_checkout(destination):
    """The project's files as a clone has them, with the virtualenv of this checkout (no second install)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, text=True, check=True)
    for name in filter(None, listed.stdout.split("\0")):
        source = PROJECT / name
        if source.is_file():  # a file deleted in the working tree is not part of it
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to(PROJECT / ".venv")


def clean_environment(**variables) -> dict:
    """A user's shell: none of the service's variables (nor the tests') set, unless given here."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {**{name: os.environ[name] for name in keep if name in os.environ}, **variables}


@contextmanager
def started(command: list[str], cwd, env: dict, log_path, base: str, seconds: float = 60):
    """Run ``command`` in a session of its own, yield once ``base`` answers, and end the whole session after."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_until_live(base, process, seconds)
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def curl(*args: str) -> tuple[int, dict]:
    """A curl command line as the README gives it; its status and JSON answer."""
    result = subprocess.run(["curl", "-sS", *args, "-w", "\n%{http_code}"], capture_output=True, text=True,
                            check=True, timeout=60)
    answer, status = result.stdout.rsplit("\n", 1)
    return int(status), json.loads(answer)


@contextmanager
def served_fresh(tmp_path):
    """``scripts/serve`` on a fresh checkout: yields its base URL, the Administrator key it printed, the log."""
    checkout = tmp_path / "jim"
    fresh_checkout(checkout)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    # scripts/serve may install the requirements first (pip, once per virtualenv), then migrates.
    with started(["scripts/serve"], checkout, clean_environment(PORT=str(port)), log_path, base, seconds=300):
        output = log_path.read_text()
        [key_line] = [line.strip() for line in output.splitlines() if line.strip().startswith(KEY_LINE)]
        yield base, key_line.removeprefix(KEY_LINE), log_path
    assert (checkout / "instance" / "jim.db").is_file()  # the embedded store, in the checkout's instance folder


def test_the_seeds_examples_work_verbatim_on_a_fresh_install(tmp_path):
    with served_fresh(tmp_path) as (base, key, log_path):
        url = f"{base}/api/v1/synchronisation/connected-systems/1"
        headers = ["-H", f"X-Api-Key: {key}", "-H", "Content-Type: application/json"]

        status, named = curl("-X", "PUT", url, *headers, "-d", SEED_NAME_AND_DESCRIPTION)
        assert status == 200, named
        assert (named["name"], named["description"]) == (
            "Corporate LDAP (Production)", "Primary directory for all employee accounts")

        status, configured = curl("-X", "PUT", url, *headers, "-d", SEED_SETTINGS)
        assert status == 200, configured
        values = configured["settingValues"]
        assert values["1"]["stringValue"] == "ldap://directory.example.com:389"
        assert values["2"]["stringValue"] == "CN=JIM,OU=Service,DC=example,DC=com"
        assert values["3"] == {"name": "Password", "type": "StringEncrypted", "hasValue": True}
        assert configured["settingValuesValid"] is False
        assert configured["name"] == "Corporate LDAP (Production)"  # the first example's change stays

        # The README's next step: validating the settings just configured.
        status, validated = curl("-X", "POST", f"{url}/validate-settings", "-H", f"X-Api-Key: {key}")
        assert status == 200, validated
        assert (validated["valid"], validated["validationErrors"]) == (True, {})
        assert validated["connectedSystem"]["settingValuesValid"] is True
    assert not shows(log_path.read_text(), "s3cur3p@ssw0rd")


def test_the_readmes_full_import_works_verbatim_on_a_fresh_install(tmp_path, ldap_directory):
    """The seed's walk-through against the run's throwaway slapd, then the Full Import section's requests, with
    the ids the README gives: the worker scripts/serve starts runs the import."""
    with served_fresh(tmp_path) as (base, key, log_path):
        api = f"{base}/api/v1/synchronisation/connected-systems"
        headers = ["-H", f"X-Api-Key: {key}", "-H", "Content-Type: application/json"]
        settings = json.loads(SEED_SETTINGS)
        settings["settingValues"]["1"]["stringValue"] = ldap_directory.url
        assert curl("-X", "PUT", f"{api}/1", *headers, "-d", json.dumps(settings))[0] == 200
        for step in ("import-schema", "import-hierarchy"):
            status, answer = curl("-X", "POST", f"{api}/1/{step}", "-H", f"X-Api-Key: {key}")
            assert status == 200, answer
        scope = {"text": "include ou=People,dc=example,dc=com\nexclude ou=Contractors,ou=People,dc=example,dc=com"}
        assert curl("-X", "PUT", f"{api}/1/container-scope-text", *headers, "-d", json.dumps(scope))[0] == 200
        status, profile = curl("-X", "POST", f"{api}/1/run-profiles", *headers, "-d",
                               '{"name": "Full Import", "runType": "FullImport", "partitionId": 1}')
        assert (status, profile["id"]) == (201, 1), profile
        status, kind = curl("-X", "PUT", f"{api}/1/object-types/17", *headers, "-d", '{"selected": true}')
        assert (status, kind["name"]) == (200, "inetOrgPerson"), kind
        status, chosen = curl("-X", "PUT", f"{api}/1/object-types/17/attributes", *headers, "-d",
                              '{"attributes": {"221": {"isExternalId": true}, "180": {"selected": true}, '
                              '"196": {"selected": true}}}')
        assert status == 200 and {a["name"] for a in chosen["updatedAttributes"]} == {"uid", "cn", "mail"}, chosen
        status, queued = curl("-X", "POST", f"{api}/1/run-profiles/1/execute", "-H", f"X-Api-Key: {key}")
        assert status == 202, queued
        progress_url = f"{base}/api/v1/activities/{queued['activityId']}/progress"
        deadline = time.monotonic() + 60
        while (progress := curl(progress_url, "-H", f"X-Api-Key: {key}")[1])["status"] == "InProgress":
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        assert progress["message"] == "Imported 2 objects: 2 added, 0 updated, 0 unchanged, 0 deleted, 0 errors."
        status, found = curl(f"{api}/1/connector-space?search=alice", "-H", f"X-Api-Key: {key}")
        assert [(item["displayName"], item["externalIdAttributeName"]) for item in found["items"]] == [
            ("Alice Archer", "uid")]
        assert curl(f"{api}/1/connector-space/count", "-H", f"X-Api-Key: {key}") == (200, 2)


def procfile() -> dict[str, str]:
    lines = (PROJECT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfiles_web_line_serves(app, database_url, admin_key, ldap_system, tmp_path):
    """Run as a PaaS runs it: with sh, PORT set and the virtualenv's commands on the PATH."""
    port = free_port()
    env = clean_environment(
        PORT=str(port),
        PATH=f"{PROJECT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        DATABASE_URL=database_url.replace("+psycopg", ""),
        JIM_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
    )
    base = f"http://127.0.0.1:{port}"
    with started(["sh", "-c", procfile()["web"]], PROJECT, env, tmp_path / "web.log", base):
        request = urllib.request.Request(f"{base}{SYSTEMS}/1", headers={"X-Api-Key": admin_key})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert json.loads(response.read()) == ldap_system
