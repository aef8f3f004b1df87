"""Swagger UI in a real browser: headless Chromium opens the page that gunicorn serves, authorises with an
API key, runs the seed's PUT through "Try it out" and sees the 200 answer.

It needs Debian's chromium at /usr/bin/chromium: ``scripts/test`` installs it with apt-get when CI=true;
elsewhere the test is skipped with a message saying how to install it.
"""
import os
from urllib.parse import urlsplit

import pytest

from absent import absent
from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from servers import gunicorn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 30_000


@pytest.fixture
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        absent(f"no browser at {CHROMIUM}: install Debian's with `apt-get install chromium` to run this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
def test_try_it_out_with_an_api_key(chromium, client, database_url, admin_key, ldap_system):
    with gunicorn(database_url.replace("+psycopg", ""), TEST_ENCRYPTION_KEY, "--workers", "2") as base:
        page = chromium.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        elsewhere = []

        def only_this_service(route):
            # Every asset must come from the service itself: a request anywhere else is refused and noted.
            if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_service)
        page.goto(f"{base}/api/swagger/")

        page.click("button.btn.authorize")
        page.fill(".modal-ux .auth-container input", admin_key)
        page.click(".modal-ux .auth-btn-wrapper button.authorize")
        page.click(".modal-ux .auth-btn-wrapper button.btn-done")

        operation = page.locator("#operations-Connected_systems-updateConnectedSystem")
        operation.locator(".opblock-summary").first.click()
        operation.locator("button.try-out__btn").click()
        operation.locator("input[placeholder='connectedSystemId']").fill("1")
        operation.locator("button.execute").click()  # the body is the seed's first example

        answer = operation.locator(".live-responses-table tbody tr.response")
        answer.wait_for()
        assert answer.locator(".response-col_status").inner_text().strip() == "200"
        assert '"name": "Corporate LDAP (Production)"' in answer.inner_text()
        assert elsewhere == []

    stored = client.get(f"{SYSTEMS}/1", headers={"X-Api-Key": admin_key}).json
    assert stored["name"] == "Corporate LDAP (Production)"
