"""deploy/nginx_site.py: the nginx site rendered from the service's environment, its body limit the service's."""
import subprocess
import sys

import pytest

from deploy.nginx_site import render
from servers import PROJECT

CERTIFICATE = {
    "JIM_NGINX_CERTIFICATE": "/etc/ssl/jim/fullchain.pem",
    "JIM_NGINX_CERTIFICATE_KEY": "/etc/ssl/jim/key.pem",
}


def test_the_body_limit_is_the_services_own():
    assert "client_max_body_size 1048576;" in render(CERTIFICATE)  # config.py's default
    assert "client_max_body_size 4096;" in render({**CERTIFICATE, "JIM_MAX_BODY_BYTES": "4096"})


def test_every_placeholder_is_filled_with_its_value_or_default():
    site = render({**CERTIFICATE, "JIM_NGINX_SERVER_NAME": "jim.example.com jim"})
    assert "${" not in site
    for line in ("listen 443 ssl;", "server 127.0.0.1:8000;", "server_name jim.example.com jim;",
                 "ssl_certificate /etc/ssl/jim/fullchain.pem;", "ssl_certificate_key /etc/ssl/jim/key.pem;"):
        assert line in site


@pytest.mark.parametrize(
    "environ, problem",
    [
        ({}, "JIM_NGINX_CERTIFICATE is not set"),
        ({**CERTIFICATE, "JIM_NGINX_SERVER_NAME": "jim; include /etc/shadow"}, "JIM_NGINX_SERVER_NAME must be"),
        ({**CERTIFICATE, "JIM_NGINX_UPSTREAM": "127.0.0.1:8000 backup"}, "JIM_NGINX_UPSTREAM must be"),
        ({**CERTIFICATE, "JIM_NGINX_CERTIFICATE": "/etc/ssl/x.pem}"}, "JIM_NGINX_CERTIFICATE must be"),
        ({**CERTIFICATE, "JIM_NGINX_LISTEN": "443 ssl;\nlocation /"}, "JIM_NGINX_LISTEN must be"),
    ],
)
def test_a_value_that_would_change_the_configuration_is_refused(environ, problem):
    with pytest.raises(ValueError, match=problem):
        render(environ)


def test_the_command_writes_the_site_or_says_what_is_missing():
    command = [sys.executable, "-m", "deploy.nginx_site"]
    written = subprocess.run(command, cwd=PROJECT, env=CERTIFICATE, capture_output=True, text=True, check=True)
    assert written.stdout == render(CERTIFICATE)
    refused = subprocess.run(command, cwd=PROJECT, env={}, capture_output=True, text=True)
    assert refused.returncode == 1 and "JIM_NGINX_CERTIFICATE is not set" in refused.stderr and not refused.stdout
