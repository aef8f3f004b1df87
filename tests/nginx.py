"""Debian's nginx in front of a test's gunicorn, serving the repository's own site (deploy/nginx.conf.template)
rendered as an operator renders it, on a free loopback port with a throwaway certificate.

Only the main file is the test's: the paths Debian's /etc/nginx/nginx.conf would give (temporary files, the
error log, the pid), in a folder of the test's own. No system nginx is used or disturbed.
"""
import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from absent import absent
from deploy.nginx_site import render
from servers import free_port

NGINX = "/usr/sbin/nginx"
MAIN = """\
worker_processes 1;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


def nginx_or_skip():
    if not os.access(NGINX, os.X_OK):
        absent(f"nginx is not installed at {NGINX} (apt-get install nginx)")


@dataclass(frozen=True)
class Proxy:
    base: str
    tls: ssl.SSLContext  # trusts the proxy's certificate only
    folder: Path

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.base.removeprefix("https://").rsplit(":", 1)
        return host, int(port)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "certificate.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path


@contextmanager
def nginx(upstream: str, service_environment: dict):
    """nginx on a free port of 127.0.0.1 in front of ``upstream`` (a base URL), its site rendered from the
    service's environment; yields the ``Proxy``."""
    nginx_or_skip()
    # Its own folder, outside pytest's (private to its user): nginx's workers drop root for "nobody".
    folder = Path(tempfile.mkdtemp(prefix="jim-nginx-"))
    folder.chmod(0o755)
    try:
        certificate, key = self_signed_certificate(folder)
        port = free_port()
        site = render({
            **service_environment,
            "JIM_NGINX_LISTEN": f"127.0.0.1:{port}",
            "JIM_NGINX_CERTIFICATE": str(certificate),
            "JIM_NGINX_CERTIFICATE_KEY": str(key),
            "JIM_NGINX_UPSTREAM": upstream.removeprefix("http://"),
        })
        (folder / "site.conf").write_text(site)
        (folder / "nginx.conf").write_text(MAIN.format(folder=folder))
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
             "-g", f"daemon off; pid {folder}/nginx.pid;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        try:
            proxy = Proxy(f"https://127.0.0.1:{port}", ssl.create_default_context(cafile=certificate), folder)
            wait_until_listening(proxy, process)
            yield proxy
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_listening(proxy: Proxy, process: subprocess.Popen, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (proxy.folder / "error.log").read_text() if (proxy.folder / "error.log").exists() else ""
            raise RuntimeError(f"nginx exited with {process.returncode}: {log}")
        try:
            socket.create_connection(proxy.address, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening in time")
