"""A throwaway Samba Active Directory domain controller: Debian's samba, provisioned into a folder of its own.

Provisioning takes seconds, so a provisioned domain (``corp.test``, with the objects below) is built once into
``~/.cache/jim-tests`` (a new recipe's build replaces the old) and each run copies it into a temporary folder. The copy gets a smb.conf of its own (logs,
pids and sockets in the folder, the LDAP service alone, single process) and a CA and a certificate made here.
Samba's LDAP ports (389, 636, and the global catalog's 3268, 3269) are fixed, so each run binds a random loopback
address 127.x.y.z instead: runs side by side never collide, and nothing touches a system Samba or /etc/samba.
Simple binds need TLS, as on a real DC: connect with LDAPS and the CA's certificate.

The tests take it as the session fixture ``samba_dc``; ``scripts/throwaway-samba-dc`` (``python
tests/samba_dc.py``) runs one until Ctrl-C, for trying the service by hand.
"""
import fcntl
import hashlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest

from absent import absent
from connectors.ldap.connection import VerifiedTls
from ldap_directory import write_certificates
from servers import stopped
from throwaway_server import run_until_stopped

SAMBA, SAMBA_TOOL, LDBADD = "/usr/sbin/samba", "/usr/bin/samba-tool", "/usr/bin/ldbadd"
PACKAGES = "samba samba-dsdb-modules samba-vfs-modules ldb-tools samba-ad-provision"
REALM, DOMAIN, HOST_NAME = "CORP.TEST", "CORP", "DC1"
BASE = "DC=corp,DC=test"
ADMIN = "Administrator@corp.test"
ADMIN_PASSWORD = "Throwaway-Adm1n-7qK"
# The bind account a JIM administrator would make; the seed's password, which the domain's complexity rule takes.
SERVICE_DN = f"CN=JIM,OU=Service,{BASE}"
SERVICE_PASSWORD = "s3cur3p@ssw0rd"
DISABLED_DN = f"CN=Disabled,OU=Service,{BASE}"
DISABLED_PASSWORD = "Off-duty-Pw-4xq!"
LDAP_PORTS = (389, 636, 3268, 3269)  # Samba's LDAP, LDAPS and global catalog ports, which it cannot change
START_SECONDS = 30  # the most the DC may take to listen; it takes about a second
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jim-tests"

# One entry of each class the tests read, besides the users samba-tool makes (it sets their passwords).
TREE_LDIF = textwrap.dedent(f"""\
    dn: OU=Service,{BASE}
    objectClass: organizationalUnit

    dn: OU=People,{BASE}
    objectClass: organizationalUnit
    description: Everyone employed

    dn: OU=Contractors,OU=People,{BASE}
    objectClass: organizationalUnit

    dn: OU=Groups,{BASE}
    objectClass: organizationalUnit

    dn: OU=Workstations,{BASE}
    objectClass: organizationalUnit

    dn: CN=Staff,OU=Groups,{BASE}
    objectClass: group
    sAMAccountName: Staff

    dn: CN=Carol Contact,OU=People,{BASE}
    objectClass: contact
    mail: carol@example.com

    dn: CN=Ivy Inetorg,OU=People,{BASE}
    objectClass: inetOrgPerson
    sAMAccountName: ivy

    dn: CN=WS01,OU=Workstations,{BASE}
    objectClass: computer
    sAMAccountName: WS01$
    userAccountControl: 4096

    dn: CN=svc-app,CN=Managed Service Accounts,{BASE}
    objectClass: msDS-ManagedServiceAccount
    sAMAccountName: svc-app$
    userAccountControl: 4096
    """)

# What a Full Import reads (test_active_directory_import.py): OU=Import, with users beneath it, one in an OU the
# scope leaves out, and a group of more members than Samba's MaxValRange (1,500), which AD answers in ranges.
IMPORT_OU = f"OU=Import,{BASE}"
BIG_GROUP_DN, BIG_GROUP_MEMBERS = f"CN=Everyone,{IMPORT_OU}", 1_600
IMPORT_LDIF = "\n".join([
    f"dn: {IMPORT_OU}\nobjectClass: organizationalUnit\n",
    f"dn: OU=Staff,{IMPORT_OU}\nobjectClass: organizationalUnit\n",
    f"dn: OU=Left Out,{IMPORT_OU}\nobjectClass: organizationalUnit\n",
    f"dn: OU=Many,{IMPORT_OU}\nobjectClass: organizationalUnit\n",
    f"dn: CN=Ann Import,{IMPORT_OU}\nobjectClass: user\nsAMAccountName: ann\ndisplayName: Ann Import\n",
    f"dn: CN=Ben Import,OU=Staff,{IMPORT_OU}\nobjectClass: user\nsAMAccountName: ben\n",
    f"dn: CN=Lee Import,OU=Left Out,{IMPORT_OU}\nobjectClass: user\nsAMAccountName: lee\n",
    *(f"dn: CN=Member {number:04d},OU=Many,{IMPORT_OU}\nobjectClass: contact\n"
      for number in range(BIG_GROUP_MEMBERS - 2)),
    f"dn: {BIG_GROUP_DN}\nobjectClass: group\nsAMAccountName: Everyone\n"
    + "".join(f"member: CN=Member {number:04d},OU=Many,{IMPORT_OU}\n" for number in range(BIG_GROUP_MEMBERS - 2))
    + f"member: CN=Ann Import,{IMPORT_OU}\nmember: CN=Ben Import,OU=Staff,{IMPORT_OU}\n",
    f"dn: CN=Pair,{IMPORT_OU}\nobjectClass: group\nsAMAccountName: Pair\n"
    f"member: CN=Ann Import,{IMPORT_OU}\nmember: CN=Lee Import,OU=Left Out,{IMPORT_OU}\n",
])
# A live entry of each class whose allowedAttributes the tests compare with the imported schema.
ENTRIES = {
    "user": SERVICE_DN,
    "group": f"CN=Staff,OU=Groups,{BASE}",
    "computer": f"CN=WS01,OU=Workstations,{BASE}",
    "contact": f"CN=Carol Contact,OU=People,{BASE}",
    "organizationalUnit": f"OU=People,{BASE}",
    "inetOrgPerson": f"CN=Ivy Inetorg,OU=People,{BASE}",
    "msDS-ManagedServiceAccount": f"CN=svc-app,CN=Managed Service Accounts,{BASE}",
    "domainDNS": BASE,  # whose auxiliary samDomain brings its own, samDomainBase
}


@dataclass(frozen=True)
class DomainController:
    host: str  # the loopback address it listens on
    folder: Path
    ca_pem: str  # the certificate of the CA that signed its LDAPS certificate

    @property
    def url(self) -> str:
        return f"ldap://{self.host}:389"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.host}:636"

    @property
    def conf(self) -> Path:
        return self.folder / "etc" / "smb.conf"

    def samba_tool(self, *args: str) -> str:
        """Runs samba-tool on the DC's own database (user, group, ou, computer, contact ...)."""
        done = subprocess.run([SAMBA_TOOL, *args, "-s", str(self.conf)], capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"samba-tool {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def connect(self, account: str = ADMIN, password: str = ADMIN_PASSWORD) -> ldap3.Connection:
        """The tests' own connection over LDAPS, as Administrator unless told otherwise, to read what the DC says
        and add objects."""
        server = ldap3.Server(self.host, port=636, use_ssl=True, tls=VerifiedTls(self.host, self.ca_pem),
                              get_info=ldap3.NONE)
        return ldap3.Connection(server, account, password, auto_bind=True, raise_exceptions=True)


def missing_reason() -> str | None:
    """Why no DC can run here, or None."""
    missing = [path for path in (SAMBA, SAMBA_TOOL, LDBADD) if not os.access(path, os.X_OK)]
    if missing:
        return f"Samba is not installed ({', '.join(missing)}): apt-get install --no-install-recommends {PACKAGES}"
    if os.geteuid() != 0:
        return "Samba AD needs root to listen on its fixed LDAP ports (389, 636)"
    return None


def require_samba():
    """Skips the test when Samba cannot run here; with CI=true (scripts/test installs it), fails it."""
    reason = missing_reason()
    if reason:
        absent(reason)


def free_address() -> str | None:
    """A loopback address on which all of Samba's LDAP ports are free, or None after a few tries."""
    for _ in range(20):
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        try:
            for port in LDAP_PORTS:
                with socket.socket() as probe:
                    probe.bind((address, port))
            return address
        except OSError:
            continue
    return None


def smb_conf(folder: Path, address: str) -> str:
    """Everything in ``folder``, the LDAP service alone, on ``address`` alone."""
    return textwrap.dedent(f"""\
        [global]
            netbios name = {HOST_NAME}
            realm = {REALM}
            workgroup = {DOMAIN}
            server role = active directory domain controller
            idmap_ldb:use rfc2307 = yes
            interfaces = {address}/8
            bind interfaces only = yes
            server services = ldap
            private dir = {folder}/private
            lock directory = {folder}
            state directory = {folder}/state
            cache directory = {folder}/cache
            binddns dir = {folder}/bind-dns
            pid directory = {folder}/run
            ncalrpc dir = {folder}/run/ncalrpc
            ntp signd socket directory = {folder}/run/ntp_signd
            winbindd socket directory = {folder}/run/winbindd
            log file = {folder}/log/samba.log
            logging = file
            rpc server dynamic port range = 61000-61100
            tls keyfile = {folder}/tls/server.key
            tls certfile = {folder}/tls/server.pem
            tls cafile = {folder}/tls/ca.pem

        [sysvol]
            path = {folder}/state/sysvol
            read only = no

        [netlogon]
            path = {folder}/state/sysvol/corp.test/scripts
            read only = no
        """)


def build_key() -> str:
    """What the cached domain is made from: Samba's version and this module's recipe."""
    version = subprocess.run([SAMBA, "--version"], capture_output=True, text=True, check=True).stdout
    recipe = "\n".join((version, REALM, HOST_NAME, ADMIN_PASSWORD, SERVICE_PASSWORD, DISABLED_PASSWORD, TREE_LDIF,
                        IMPORT_LDIF, "v2"))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def copy_provisioned(into: Path):
    """A copy of the cached provisioned domain, built first if it is not there, and the builds of other recipes
    removed; all under a lock, so that runs side by side wait for each other's build and never copy one being
    removed."""
    cached = CACHE / f"samba-dc-{build_key()}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "samba-dc.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cached.exists():
            building = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
            try:
                provision(building)
                building.rename(cached)
            finally:
                shutil.rmtree(building, ignore_errors=True)
            for other in CACHE.glob("samba-dc-*"):
                if other != cached and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)
        shutil.copytree(cached, into, symlinks=True)


def run(*command: str):
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {(done.stderr or done.stdout)[-2000:]}")


def provision(folder: Path):
    run(SAMBA_TOOL, "domain", "provision", f"--targetdir={folder}", f"--realm={REALM}", f"--domain={DOMAIN}",
        f"--host-name={HOST_NAME}", "--server-role=dc", "--dns-backend=SAMBA_INTERNAL", "--use-rfc2307",
        f"--adminpass={ADMIN_PASSWORD}", "--option=interfaces=lo", "--option=bind interfaces only=yes")
    conf = str(folder / "etc" / "smb.conf")
    (folder / "tree.ldif").write_text(TREE_LDIF + "\n" + IMPORT_LDIF)
    run(LDBADD, "-H", str(folder / "private" / "sam.ldb"), str(folder / "tree.ldif"))
    for name, password in (("JIM", SERVICE_PASSWORD), ("Disabled", DISABLED_PASSWORD)):
        run(SAMBA_TOOL, "user", "create", name, password, "--userou=OU=Service", "-s", conf)
    run(SAMBA_TOOL, "user", "disable", "Disabled", "-s", conf)


def wait_until_listening(process: subprocess.Popen, address: str, log: Path):
    deadline = time.monotonic() + START_SECONDS
    for port in (636, 389):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"samba exited with {process.returncode}: "
                                   f"{log.read_text(errors='replace')[-2000:] if log.exists() else ''}")
            try:
                socket.create_connection((address, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"samba did not listen on {address}:{port} within {START_SECONDS} seconds")
                time.sleep(0.05)


@contextmanager
def running_domain_controller(folder: Path):
    """Yields a ``DomainController`` copied from the cached domain into ``folder``; stops it afterwards."""
    address = free_address()
    if address is None:
        raise PortsTaken(f"no loopback address had Samba's LDAP ports ({', '.join(map(str, LDAP_PORTS))}) free")
    dc = folder / "dc"
    copy_provisioned(dc)
    for name in ("log", "run", "tls"):
        (dc / name).mkdir(exist_ok=True)
    ca_pem = write_certificates(dc / "tls", (address,))
    (dc / "tls" / "server.key").chmod(0o600)  # samba refuses a key others may read
    (dc / "etc" / "smb.conf").write_text(smb_conf(dc, address))
    log = open(dc / "log" / "stdout.log", "wb")
    process = subprocess.Popen([SAMBA, "-s", str(dc / "etc" / "smb.conf"), "--foreground", "--no-process-group",
                                "--model=single"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(process, address, dc / "log" / "stdout.log")
        yield DomainController(address, dc, ca_pem)
    finally:
        stopped(process)
        log.close()


class PortsTaken(RuntimeError):
    pass


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory):
    """The run's throwaway domain controller. A test that changes its objects puts them back as they were."""
    require_samba()
    try:
        with running_domain_controller(tmp_path_factory.mktemp("samba")) as dc:
            yield dc
    except PortsTaken as taken:
        absent(str(taken))


def announced(dc: DomainController, folder: Path) -> str:
    (folder / "ca.pem").write_text(dc.ca_pem)
    return textwrap.dedent(f"""\
        A throwaway Samba AD domain controller for {REALM.lower()} is listening on {dc.ldaps_url}
        (LDAPS; simple binds need TLS, as on any DC), its CA certificate in {folder}/ca.pem.
        Bind as {SERVICE_DN} with password {SERVICE_PASSWORD}
        (or {ADMIN} with {ADMIN_PASSWORD}).
        Settings: 1 (Host) {dc.ldaps_url}, 15 (Trusted CA Certificates) the CA certificate.
        Ctrl-C stops it and removes {folder}.""")


def main():
    reason = missing_reason()
    if reason:
        raise SystemExit(reason)
    run_until_stopped("jim-samba-dc-", running_domain_controller, announced)


if __name__ == "__main__":
    main()
