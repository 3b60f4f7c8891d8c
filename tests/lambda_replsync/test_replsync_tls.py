"""Verified TLS to TLS-only servers, both engines: what Aurora enforces, and what an impostor
of the cluster would try (another CA, another name, no TLS at all)."""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import rdstls
from replsync.config import Environment
from replsync.connect import Connector, Credentials
from replsync.dialect import DIALECTS
from replsync.errors import ConfigError, ConnectionRefused
from replsync_helpers import ITEM_DDL
from replsync_stack import Stack, json_lines

UNKNOWN_CA = "unable to get local issuer certificate|self-signed certificate in certificate chain"


def _connector(server: Any, host: str | None = None) -> tuple[Connector, Environment]:
    info = server.new_database()
    env = Environment(
        name="dev",
        host=host or info["host"],
        port=info["port"],
        dbname=info["dbname"],
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:dev",
        production=False,
    )
    config: Any = SimpleNamespace(environments={"dev": env})  # all a Connector reads
    creds = Credentials(info["user"], info["password"])
    return Connector(config, DIALECTS[server.engine](), login=lambda _env: creds), env


def test_a_verified_connection_is_encrypted(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CA_BUNDLE", str(server.tls.ca))
    connector, _ = _connector(server)
    conn = connector.open("dev")
    try:
        cur = conn.cursor()
        if server.engine == "mysql":
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            assert cur.fetchone()[1].startswith("TLSv1.")
        else:
            cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            encrypted, version = cur.fetchone()
            assert encrypted is True and version.startswith("TLSv1.")
    finally:
        conn.close()


def test_postgres_authenticates_with_scram_channel_binding(
    postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Aurora PostgreSQL's default is SCRAM; over TLS the client binds the authentication to
    the server's certificate (SCRAM-SHA-256-PLUS, tls-server-end-point), so a relay holding
    another certificate cannot pass the exchange on. The pinned pg8000/scramp pair does it."""
    monkeypatch.setenv("DB_CA_BUNDLE", str(postgres_server.tls.ca))
    connector, _ = _connector(postgres_server)
    conn = connector.open("dev")
    try:
        assert conn.auth.mechanism_name == "SCRAM-SHA-256-PLUS"
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("use_other_ca", "host", "reason"),
    [
        # PostgreSQL sends the leaf only, MariaDB the chain with its root: either way no
        # certificate of the bundle signs it.
        (True, None, UNKNOWN_CA),
        (False, "127.0.0.1", "mismatch, certificate is not valid for '127.0.0.1'"),
    ],
    ids=["unknown-ca", "host-name-mismatch"],
)
def test_a_server_that_fails_verification_is_refused_at_once(
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
    use_other_ca: bool,
    host: str | None,
    reason: str,
) -> None:
    tls = server.tls
    monkeypatch.setenv("DB_CA_BUNDLE", str(tls.other_ca if use_other_ca else tls.ca))
    connector, _ = _connector(server, host)
    attempts = []
    real_connect = connector.dialect.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(connector.dialect, "connect", counting)
    with pytest.raises(ConnectionRefused, match="server certificate refused") as caught:
        connector.open("dev")
    assert re.search(reason, caught.value.message)
    assert len(attempts) == 1  # not retried: the same certificate fails the same way


def test_sync_against_an_unverified_target_writes_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.everywhere(ITEM_DDL)
    stack.execute("dev", "INSERT INTO item (id, label, qty) VALUES (1, 'a', 1), (2, 'b', 2)")
    stack.set_tables([{"name": "item"}])
    monkeypatch.setenv("DB_CA_BUNDLE", str(stack.server.tls.other_ca))

    response = stack.run(action="sync_reference_data", source="dev", target="staging")

    assert response["status"] == "error" and response["error"] == "ConnectionRefused"
    assert re.search(UNKNOWN_CA, response["message"])
    assert stack.query("staging", "SELECT COUNT(*) FROM item") == [(0,)]
    logged = json_lines(capsys.readouterr().out)
    assert not [r for r in logged if r.get("event") == "transient_error"]


def test_a_missing_bundle_is_a_configuration_error(
    server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("DB_CA_BUNDLE", str(tmp_path / "absent.pem"))
    connector, _ = _connector(server)
    with pytest.raises(ConfigError, match=r"absent\.pem"):
        connector.open("dev")


def test_the_servers_refuse_plaintext(server: Any) -> None:
    """The fixtures are TLS-only, as Aurora is: a client that does not ask for TLS is turned
    away by the server itself (so the suites above really run over TLS)."""
    info = server.new_database()
    if server.engine == "mysql":
        import pymysql

        with pytest.raises(pymysql.err.OperationalError) as caught:
            pymysql.connect(
                host=info["host"],
                port=info["port"],
                user=info["user"],
                password=info["password"],
                database=info["dbname"],
            )
        assert caught.value.args[0] == 1045  # MariaDB's answer to insecure transport
    else:
        import pg8000.dbapi

        with pytest.raises(pg8000.dbapi.DatabaseError, match="no encryption"):
            pg8000.dbapi.connect(
                host=info["host"],
                port=info["port"],
                user=info["user"],
                password=info["password"],
                database=info["dbname"],
                ssl_context=False,
            )


# --------------------------------------------------------------------------- impostors


class Impostor:
    """A loopback listener that answers like a database server that does not offer TLS, and
    records every byte the client sends it."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.received = b""
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(5)
            if self.greeting:
                conn.sendall(self.greeting)
            try:
                while chunk := conn.recv(4096):
                    self.received += chunk
                    if self.greeting == b"":  # PostgreSQL: the client speaks first
                        conn.sendall(b"N")  # "no SSL here"
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


def _mysql_greeting_without_ssl() -> bytes:
    """A MySQL protocol-10 handshake whose capabilities lack CLIENT_SSL (0x800)."""
    capabilities = 0x00000001 | 0x00000200 | 0x00008000 | 0x00080000  # no 0x800
    payload = (
        b"\x0a"
        + b"5.7.44-impostor\x00"
        + struct.pack("<I", 7)
        + b"abcdefgh\x00"
        + struct.pack("<H", capabilities & 0xFFFF)
        + b"\x21"
        + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16)
        + bytes([21])
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"
        + b"mysql_native_password\x00"
    )
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


@pytest.fixture(params=["mysql", "postgres"])
def impostor(request: pytest.FixtureRequest) -> Iterator[tuple[str, Impostor]]:
    greeting = _mysql_greeting_without_ssl() if request.param == "mysql" else b""
    fake = Impostor(greeting)
    yield request.param, fake
    fake.close()


def test_a_server_without_tls_gets_no_credentials(
    impostor: tuple[str, Impostor], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """PyMySQL would authenticate in plaintext when the greeting lacks TLS, pg8000 stops when
    the server declines it: either way the connection is refused before the user name or any
    password hash leaves the function."""
    engine, fake = impostor
    monkeypatch.setenv("DB_CA_BUNDLE", str(_any_ca(tmp_path)))
    dialect = DIALECTS[engine]()
    with pytest.raises(rdstls.TlsRefused, match="did not offer TLS"):
        dialect.connect("127.0.0.1", fake.port, "replsync_user", "s3cret", "appdb", timeout=5)
    fake.close()
    ssl_request = struct.pack("!ii", 8, 80877103)  # PostgreSQL's SSLRequest, nothing more
    assert fake.received == (b"" if engine == "mysql" else ssl_request)


def _any_ca(tmp_path: Any) -> Any:
    from testca import make_tls_files

    return make_tls_files(tmp_path).ca
