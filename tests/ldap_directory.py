"""A throwaway OpenLDAP directory: Debian's slapd with a cn=config of its own, on free loopback ports.

``running_directory(folder)`` writes the configuration (the core, cosine, inetorgperson and nis schemas, one mdb
database for dc=example,dc=com, an LDAPS listener with a certificate made here), starts slapd in the foreground,
loads a small tree with ldapadd, and stops slapd when the block ends. It never uses port 389 and never touches a
system slapd. The tests take it as the session fixture ``ldap_directory``; ``scripts/throwaway-slapd``
(``python tests/ldap_directory.py``) runs one until Ctrl-C, for trying the service by hand.
"""
import datetime
import ipaddress
import os
import socket
import subprocess
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from absent import absent
from servers import free_port, stopped
from throwaway_server import run_until_stopped

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
LDAP_TOOLS = "/usr/bin"  # ldapadd, ldapmodify, ldapmodrdn, from ldap-utils
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
SUFFIX = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "throwaway-root-Vq7#kd2"
# The seed's bind account and password, so that the README's curl runs against this directory as written.
SERVICE_DN = f"cn=JIM,ou=Service,{SUFFIX}"
SERVICE_PASSWORD = "s3cur3p@ssw0rd"
# An account that may bind and read the tree, but not the subschema (an ACL of the frontend database).
NO_SCHEMA_DN = f"cn=NoSchema,ou=Service,{SUFFIX}"
NO_SCHEMA_PASSWORD = "no-schema-Pw4!mx81"
START_SECONDS = 10  # the most slapd may take to listen; it takes a small fraction of a second


@dataclass(frozen=True)
class Directory:
    host: str
    port: int
    ldaps_port: int
    folder: Path
    ca_pem: str  # the certificate of the CA that signed the LDAPS listener's certificate

    @property
    def url(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.host}:{self.ldaps_port}"

    def tool(self, name: str, ldif: str = "", *args: str, check: bool = True):
        """Runs an ldap-utils tool (ldapadd, ldapmodify, ldapmodrdn, ldapdelete) as the root DN."""
        subprocess.run([f"{LDAP_TOOLS}/{name}", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, *args],
                       input=ldif.encode(), check=check, capture_output=True, timeout=30)


def require_slapd():
    """Skips the test when slapd or ldap-utils is missing; with CI=true (scripts/test installs them), fails it."""
    missing = [path for path in (SLAPD, SLAPADD, f"{LDAP_TOOLS}/ldapadd") if not os.access(path, os.X_OK)]
    if missing:
        absent(f"OpenLDAP is not installed ({', '.join(missing)}): apt-get install slapd ldap-utils")


def write_certificates(folder: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1"),
                       self_signed: bool = False) -> str:
    """A CA, and a server certificate for ``names`` (host names or IP addresses) signed by it, as ca.pem,
    server.pem and server.key; returns the CA's PEM. A ``self_signed`` server certificate is its own CA."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "JIM test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    if self_signed:
        ca_key, ca_name = server_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([subject_name(name) for name in names]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    ca_pem = (server if self_signed else ca).public_bytes(serialization.Encoding.PEM).decode()
    (folder / "ca.pem").write_text(ca_pem)
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_pem


def subject_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# A structural class of the tests' own holding one attribute of each syntax slapd knows that the connector maps
# (slapd has no UTC Time), each named after its syntax: jimBoolean, jimGeneralizedTime, ... Its OIDs are
# UUID-based (X.667), which need no registration.
SAMPLE_CLASS = "jimSyntaxSample"
SAMPLE_ARC = "2.25.31275351307768744957933072192928233618"
SAMPLE_SYNTAXES = {
    "DN": "1.3.6.1.4.1.1466.115.121.1.12", "NameAndOptionalUID": "1.3.6.1.4.1.1466.115.121.1.34",
    "Integer": "1.3.6.1.4.1.1466.115.121.1.27", "Boolean": "1.3.6.1.4.1.1466.115.121.1.7",
    "GeneralizedTime": "1.3.6.1.4.1.1466.115.121.1.24", "UUID": "1.3.6.1.1.16.1",
    "OctetString": "1.3.6.1.4.1.1466.115.121.1.40", "Binary": "1.3.6.1.4.1.1466.115.121.1.5",
    "Audio": "1.3.6.1.4.1.1466.115.121.1.4", "Certificate": "1.3.6.1.4.1.1466.115.121.1.8",
    "CertificateList": "1.3.6.1.4.1.1466.115.121.1.9", "CertificatePair": "1.3.6.1.4.1.1466.115.121.1.10",
    "Fax": "1.3.6.1.4.1.1466.115.121.1.23", "JPEG": "1.3.6.1.4.1.1466.115.121.1.28",
    "SupportedAlgorithm": "1.3.6.1.4.1.1466.115.121.1.49", "DirectoryString": "1.3.6.1.4.1.1466.115.121.1.15",
}


def sample_schema() -> str:
    """The lines of SAMPLE_CLASS and its attributes, for the schema entry cn=jim."""
    lines = [f"olcAttributeTypes: ( {SAMPLE_ARC}.1.{number} NAME 'jim{name}' SYNTAX {oid} SINGLE-VALUE )"
             for number, (name, oid) in enumerate(SAMPLE_SYNTAXES.items(), start=1)]
    names = " $ ".join(f"jim{name}" for name in SAMPLE_SYNTAXES)
    lines.append(f"olcObjectClasses: ( {SAMPLE_ARC}.2.1 NAME '{SAMPLE_CLASS}' SUP top STRUCTURAL MUST cn "
                 f"MAY ( {names} ) )")
    return "\n".join(lines) + "\n"


def config_ldif(folder: Path, limits: str = "") -> str:
    schemas = "".join(f"include: file:///etc/ldap/schema/{name}.ldif\n\n" for name in SCHEMAS)
    return textwrap.dedent(f"""\
        dn: cn=config
        objectClass: olcGlobal
        cn: config
        olcPidFile: {folder}/slapd.pid
        olcTLSCACertificateFile: {folder}/ca.pem
        olcTLSCertificateFile: {folder}/server.pem
        olcTLSCertificateKeyFile: {folder}/server.key

        dn: cn=module{{0}},cn=config
        objectClass: olcModuleList
        cn: module{{0}}
        olcModulePath: /usr/lib/ldap
        olcModuleLoad: back_mdb

        dn: cn=schema,cn=config
        objectClass: olcSchemaConfig
        cn: schema

        """) + schemas + textwrap.dedent(f"""\
        # A DIT content rule (RFC 4512 4.1.6): account entries may be posix and shadow accounts, and nothing else.
        dn: cn=jim,cn=schema,cn=config
        objectClass: olcSchemaConfig
        cn: jim
        olcDitContentRules: ( 0.9.2342.19200300.100.4.5 NAME 'account' AUX ( posixAccount $ shadowAccount ) )
        """) + sample_schema() + textwrap.dedent(f"""\

        dn: olcDatabase={{-1}}frontend,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcFrontendConfig
        olcDatabase: {{-1}}frontend
        olcAccess: {{0}}to dn.base="cn=Subschema" by dn.exact="{NO_SCHEMA_DN}" none by * read
        olcAccess: {{1}}to dn.base="" by * read

        dn: olcDatabase={{0}}config,cn=config
        objectClass: olcDatabaseConfig
        olcDatabase: {{0}}config
        olcAccess: {{0}}to * by * none

        dn: olcDatabase={{1}}mdb,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcMdbConfig
        olcDatabase: {{1}}mdb
        olcSuffix: {SUFFIX}
        olcRootDN: {ADMIN_DN}
        olcRootPW: {ADMIN_PASSWORD}
        olcDbDirectory: {folder}/data
        olcDbMaxSize: 1073741824
        # A throwaway: no fsync per write, so that a test can add 20,000 entries in a second.
        olcDbNoSync: TRUE
        # A test's own limits first: slapd applies the first that matches the account.
        {f"olcLimits: {limits}" if limits else "#"}
        # As a big directory is set up to be read by paged searches: 500 entries a page, any number of pages.
        olcLimits: * size.prtotal=unlimited
        olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
        olcAccess: {{1}}to * by users read
        """)


def person(uid: str, parent: str, number: int, given: str, surname: str) -> str:
    return textwrap.dedent(f"""\
        dn: uid={uid},{parent}
        objectClass: inetOrgPerson
        objectClass: posixAccount
        objectClass: shadowAccount
        uid: {uid}
        cn: {given} {surname}
        givenName: {given}
        sn: {surname}
        mail: {uid}@example.com
        uidNumber: {number}
        gidNumber: 5000
        homeDirectory: /home/{uid}
        loginShell: /bin/bash
        """)


def tree_ldif() -> str:
    people = f"ou=People,{SUFFIX}"
    contractors = f"ou=Contractors,{people}"
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: {people}\nobjectClass: organizationalUnit\nou: People\ndescription: Everyone employed\n",
        f"dn: {contractors}\nobjectClass: organizationalUnit\nou: Contractors\ndescription: Not on payroll\n",
        f"dn: ou=Sales\\2C EMEA,{people}\nobjectClass: organizationalUnit\nou: Sales, EMEA\n",
        f"dn: ou=Groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: Groups\n",
        f"dn: ou=Service,{SUFFIX}\nobjectClass: organizationalUnit\nou: Service\n",
        person("alice", people, 10001, "Alice", "Archer"),
        person("bob", people, 10002, "Bob", "Baker"),
        person("carol", contractors, 10003, "Carol", "Cooper"),
        textwrap.dedent(f"""\
            dn: cn=Staff,ou=Groups,{SUFFIX}
            objectClass: groupOfNames
            cn: Staff
            member: uid=alice,{people}
            member: uid=bob,{people}
            """),
        textwrap.dedent(f"""\
            dn: cn=developers,ou=Groups,{SUFFIX}
            objectClass: posixGroup
            cn: developers
            gidNumber: 5000
            memberUid: alice
            memberUid: carol
            """),
    ]
    for dn, password in ((SERVICE_DN, SERVICE_PASSWORD), (NO_SCHEMA_DN, NO_SCHEMA_PASSWORD)):
        name = dn.split(",")[0].split("=")[1]
        entries.append(f"dn: {dn}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
                       f"cn: {name}\nuserPassword: {password}\n")
    return "\n".join(entries)


def wait_until_listening(process: subprocess.Popen, ports: tuple[int, ...], log: Path):
    deadline = time.monotonic() + START_SECONDS
    pending = list(ports)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", pending[0]), timeout=1).close()
            pending.pop(0)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not listen on {pending[0]} within {START_SECONDS} seconds")
            time.sleep(0.01)


@pytest.fixture(scope="session")
def ldap_directory(tmp_path_factory):
    """The run's throwaway directory. A test that changes its tree puts it back as it was."""
    require_slapd()
    with running_directory(tmp_path_factory.mktemp("slapd")) as directory:
        yield directory


@contextmanager
def running_directory(folder: Path, tree: bool = True, certificate_names: tuple[str, ...] = ("localhost", "127.0.0.1"),
                      limits: str = "", self_signed: bool = False):
    """Yields a ``Directory`` served by a slapd of its own, configured in ``folder``; stops it afterwards.
    Without ``tree``, the database is empty: not even the entry of its suffix is there. The LDAPS listener's
    certificate is for ``certificate_names``, and signed by a CA made here unless ``self_signed``; ``limits`` is
    the database's ``olcLimits`` (slapd-config(5))."""
    config = folder / "slapd.d"
    config.mkdir()
    (folder / "data").mkdir()
    ca_pem = write_certificates(folder, certificate_names, self_signed)
    subprocess.run([SLAPADD, "-n0", "-F", str(config)], input=config_ldif(folder, limits).encode(), check=True,
                   capture_output=True, timeout=30)
    port, ldaps_port = free_port(), free_port()
    while ldaps_port == port:
        ldaps_port = free_port()
    log = open(folder / "slapd.log", "wb")
    process = subprocess.Popen(
        [SLAPD, "-F", str(config), "-h", f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/", "-d", "0"],
        stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_listening(process, (port, ldaps_port), folder / "slapd.log")
        directory = Directory("127.0.0.1", port, ldaps_port, folder, ca_pem)
        if tree:
            directory.tool("ldapadd", tree_ldif())
        yield directory
    finally:
        stopped(process)
        log.close()


def announced(directory, folder: Path) -> str:
    return textwrap.dedent(f"""\
        A throwaway OpenLDAP directory for {SUFFIX} is listening on {directory.url}
        and {directory.ldaps_url} (its CA certificate: {folder}/ca.pem).
        Bind as {SERVICE_DN} with password {SERVICE_PASSWORD}.
        Setting 1 (Host) for the seed's example: {directory.url}
        Ctrl-C stops it and removes {folder}.""")


def main():
    run_until_stopped("jim-slapd-", running_directory, announced)


if __name__ == "__main__":
    main()
