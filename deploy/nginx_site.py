"""The nginx site for this service: deploy/nginx.conf.template, filled in from the environment.

    python -m deploy.nginx_site > /etc/nginx/conf.d/jim-connected-systems.conf

Run it from the project folder with the service's own environment: the body limit is ``JIM_MAX_BODY_BYTES``
as ``config.py`` reads it for the service, default included, so nginx refuses exactly the bodies the service
would. The rest is nginx's own:

- ``JIM_NGINX_CERTIFICATE``, ``JIM_NGINX_CERTIFICATE_KEY``: the TLS certificate (chain) and key files;
- ``JIM_NGINX_SERVER_NAME``: the host names clients use (default ``_``, any);
- ``JIM_NGINX_LISTEN``: nginx's address or port (default ``443``);
- ``JIM_NGINX_UPSTREAM``: gunicorn's address (default ``127.0.0.1:8000``, gunicorn.conf.py's).
"""
import os
import re
import sys
from pathlib import Path

from config import Config

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
PLACEHOLDER = re.compile(r"\$\{(JIM_[A-Z_]+)\}")
DEFAULTS = {"JIM_NGINX_SERVER_NAME": "_", "JIM_NGINX_LISTEN": "443", "JIM_NGINX_UPSTREAM": "127.0.0.1:8000"}
# A value is one nginx word (server names: several), so that it cannot end a directive or open a block.
WORD = re.compile(r"[^\s;{}'\"$#\\]+")


def render(environ=os.environ) -> str:
    values = {**DEFAULTS, **{name: environ[name] for name in environ if name.startswith("JIM_NGINX_")}}
    values["JIM_MAX_BODY_BYTES"] = str(Config(environ).MAX_CONTENT_LENGTH)
    template = TEMPLATE.read_text()
    problems = []
    for name in sorted(set(PLACEHOLDER.findall(template))):
        words = values.get(name, "").split()
        if not words:
            problems.append(f"{name} is not set")
        elif not all(map(WORD.fullmatch, words)) or (len(words) > 1 and name != "JIM_NGINX_SERVER_NAME"):
            problems.append(f"{name} must be one word without ; {{ }} quotes, $, # or \\")
    if problems:
        raise ValueError("; ".join(problems))
    return PLACEHOLDER.sub(lambda match: values[match[1]], template)


if __name__ == "__main__":
    try:
        sys.stdout.write(render())
    except ValueError as error:
        sys.exit(f"deploy.nginx_site: {error}")
