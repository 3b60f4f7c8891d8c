"""Throw-away MariaDB and PostgreSQL servers for tests.

Each server is started once per pytest session on 127.0.0.1 and a free port, with real
password-authenticated users (no ``--skip-grant-tables``, no ``trust`` over TCP). Like Aurora,
they accept TLS only (MariaDB ``--require-secure-transport``, PostgreSQL ``hostssl`` lines and
``hostnossl ... reject``), with a certificate for ``localhost`` from a CA made for the session
(``testca.py``): clients dial ``localhost`` and verify against ``DBServer.tls.ca``, which is
what tests give the Lambdas as ``DB_CA_BUNDLE``. Tests ask for a fresh database with
:meth:`DBServer.new_database` and connect with the returned dict.

A missing server binary FAILS the fixture instead of skipping: CI installs both servers, so a
skip would silently hide the suites that need them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from testca import SERVER_NAME, TlsFiles, make_tls_files

APP_USER = "replgen"
APP_PASSWORD = "replgen-test-pw"
ADMIN_PASSWORD = "admin-test-pw"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A port nobody listens on right now (tiny race accepted: we retry start on failure)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find_binary(names: list[str], extra_dirs: list[str]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for directory in extra_dirs:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until(probe: Any, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Poll ``probe()`` until it returns without raising, the server dies, or we time out."""
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            probe()
            return
        except Exception as exc:  # any connection error means "not ready yet"
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT}s ({last}):\n{_tail(log)}")


def _run_checked(args: list[str], user: str | None = None) -> None:
    """Run a setup tool; on failure fail the fixture with the tool's own output."""
    done = subprocess.run(args, capture_output=True, timeout=120, user=user, check=False)
    if done.returncode != 0:
        out = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
        raise RuntimeError(f"{' '.join(args)} failed with {done.returncode}:\n{out}")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class DBServer:
    """A running server. ``engine`` is "mysql" or "postgres" (the REPLSYNC_CONFIG names)."""

    engine: str
    host: str
    port: int
    user: str
    password: str
    admin_user: str
    admin_password: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    tls: TlsFiles
    databases: list[str] = field(default_factory=list)

    def admin_connect(self, dbname: str | None = None) -> Any:
        """Autocommit connection as the superuser (for CREATE DATABASE and similar)."""
        return _connect(
            self.engine,
            self.host,
            self.port,
            self.admin_user,
            self.admin_password,
            dbname,
            autocommit=True,
            ca=self.tls.ca,
        )

    def connect(self, dbname: str, autocommit: bool = True) -> Any:
        """DB-API connection as the unprivileged application user."""
        return _connect(
            self.engine,
            self.host,
            self.port,
            self.user,
            self.password,
            dbname,
            autocommit=autocommit,
            ca=self.tls.ca,
        )

    def connect_info(self, dbname: str) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": dbname,
        }

    def new_database(self, name: str | None = None) -> dict[str, Any]:
        """Create an empty database owned by the app user (dropping any earlier one of that
        name) and return ``dict(host, port, user, password, dbname)``."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        conn = self.admin_connect()
        try:
            cur = conn.cursor()
            for sql in _CREATE_DB[self.engine]:
                cur.execute(sql.format(db=name, user=self.user))
        finally:
            conn.close()
        self.databases.append(name)
        return self.connect_info(name)

    def stop(self) -> None:
        """Shut the server down (SIGTERM for MariaDB, fast shutdown for PostgreSQL)."""
        _stop(self.proc, signal.SIGINT if self.engine == "postgres" else signal.SIGTERM)

    def drop_database(self, name: str) -> None:
        conn = self.admin_connect()
        try:
            conn.cursor().execute(_DROP_DB[self.engine].format(db=name))
        finally:
            conn.close()


# Names come from tests (never users), but quote them anyway.
_CREATE_DB = {
    "mysql": ["DROP DATABASE IF EXISTS `{db}`", "CREATE DATABASE `{db}` CHARACTER SET utf8mb4"],
    "postgres": [
        'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)',
        'CREATE DATABASE "{db}" OWNER "{user}"',
    ],
}
_DROP_DB = {
    "mysql": "DROP DATABASE IF EXISTS `{db}`",
    "postgres": 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)',
}


def _connect(
    engine: str,
    host: str,
    port: int,
    user: str,
    password: str,
    dbname: str | None,
    autocommit: bool,
    ca: Path,
) -> Any:
    context = ssl.create_default_context(cafile=str(ca))
    if engine == "mysql":
        import pymysql

        return pymysql.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=dbname,
            autocommit=autocommit,
            charset="utf8mb4",
            connect_timeout=5,
            ssl=context,
        )
    import pg8000.dbapi

    conn = pg8000.dbapi.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        database=dbname or "postgres",
        timeout=30,
        ssl_context=context,
    )
    conn.autocommit = autocommit
    return conn


# --------------------------------------------------------------------------- MariaDB


def find_mariadbd() -> str:
    found = _find_binary(
        ["mariadbd", "mysqld"], ["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"]
    )
    if not found:
        pytest.fail(
            "MariaDB/MySQL server binary (mariadbd or mysqld) not found on PATH or in "
            "/usr/sbin: install it (Debian: apt-get install mariadb-server)"
        )
    return found


def find_install_db() -> str:
    found = _find_binary(
        ["mariadb-install-db", "mysql_install_db"],
        ["/usr/bin", "/usr/sbin", "/usr/local/mysql/scripts"],
    )
    if not found:
        pytest.fail("mariadb-install-db not found: install mariadb-server")
    return found


def start_mariadb(base: Path) -> DBServer:
    mariadbd, install_db = find_mariadbd(), find_install_db()
    datadir = base / "data"
    tls = make_tls_files(base)
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    # Normal password auth for root (not unix_socket) so we can connect over TCP.
    _run_checked(
        [
            install_db,
            "--no-defaults",
            f"--datadir={datadir}",
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
            *as_root,
        ]
    )
    last_error: Exception | None = None
    for _attempt in range(3):
        port = free_port()
        log = base / "mariadb.err"
        # Durability knobs off: a test server loses nothing we care about on a crash.
        args = [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={base / 'mysqld.sock'}",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--innodb-buffer-pool-size=512M",
            "--max-connections=200",
            "--character-set-server=utf8mb4",
            f"--ssl-ca={tls.ca}",
            f"--ssl-cert={tls.cert}",
            f"--ssl-key={tls.key}",
            "--require-secure-transport=ON",
            *as_root,
        ]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = DBServer(
            "mysql", SERVER_NAME, port, APP_USER, APP_PASSWORD, "root", "", proc, base, tls
        )
        try:
            _wait_until(lambda s=server: s.admin_connect().close(), proc, log, "mariadbd")
        except RuntimeError as exc:
            last_error = exc
            _stop(proc, signal.SIGKILL)
            continue
        try:
            _bootstrap_mariadb(server)
        except BaseException:
            _stop(proc, signal.SIGKILL)
            raise
        return server
    raise RuntimeError(f"could not start MariaDB: {last_error}")


def _bootstrap_mariadb(server: DBServer) -> None:
    conn = server.admin_connect()
    try:
        cur = conn.cursor()
        for host in ("%", "localhost"):
            cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (APP_USER, host, APP_PASSWORD))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@%s", (APP_USER, host))
        cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (ADMIN_PASSWORD,))
        cur.execute("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY %s", (ADMIN_PASSWORD,))
    finally:
        conn.close()
    server.admin_password = ADMIN_PASSWORD


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for directory in candidates:
        if (Path(directory) / "postgres").is_file() and (Path(directory) / "initdb").is_file():
            return Path(directory)
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    pytest.fail(
        "PostgreSQL server binaries (postgres, initdb) not found in "
        "/usr/lib/postgresql/*/bin or on PATH: install postgresql"
    )


def _pg_run_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as ``postgres`` (or ``nobody``) then."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.fail("running as root but no 'postgres' or 'nobody' user to run PostgreSQL as")


# TCP only over TLS, as Aurora with rds.force_ssl=1; the unix socket is for nobody but us.
_PG_HBA = """\
local     all all              scram-sha-256
hostssl   all all 127.0.0.1/32 scram-sha-256
hostssl   all all ::1/128      scram-sha-256
hostnossl all all 0.0.0.0/0    reject
hostnossl all all ::/0         reject
"""


def start_postgres() -> DBServer:
    bindir = find_pg_bindir()
    run_as = _pg_run_user()
    # pytest's tmp dirs are 0700 root-owned: the server user could not enter them.
    base = Path(tempfile.mkdtemp(prefix="replsync-pg-"))
    pwfile = base / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    owner = None
    if run_as:
        entry = pwd.getpwnam(run_as)
        owner = (entry.pw_uid, entry.pw_gid)
        os.chown(base, *owner)
        os.chown(pwfile, *owner)
    tls = make_tls_files(base, owner)
    datadir = base / "data"
    _run_checked(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        user=run_as,
    )
    (datadir / "pg_hba.conf").write_text(_PG_HBA)
    last_error: Exception | None = None
    for _attempt in range(3):
        port = free_port()
        log = base / "postgres.log"
        args = [
            str(bindir / "postgres"),
            "-D",
            str(datadir),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={base}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=200",
            "-c",
            "ssl=on",
            "-c",
            f"ssl_cert_file={tls.cert}",
            "-c",
            f"ssl_key_file={tls.key}",
        ]
        with open(log, "ab") as log_fh:
            proc = subprocess.Popen(args, stdout=log_fh, stderr=subprocess.STDOUT, user=run_as)
        server = DBServer(
            "postgres",
            SERVER_NAME,
            port,
            APP_USER,
            APP_PASSWORD,
            "postgres",
            ADMIN_PASSWORD,
            proc,
            base,
            tls,
        )
        try:
            _wait_until(lambda s=server: s.admin_connect().close(), proc, log, "postgres")
        except RuntimeError as exc:
            last_error = exc
            _stop(proc, signal.SIGKILL)
            continue
        try:
            _bootstrap_postgres(server)
        except BaseException:
            _stop(proc, signal.SIGKILL)
            raise
        return server
    raise RuntimeError(f"could not start PostgreSQL: {last_error}")


def _bootstrap_postgres(server: DBServer) -> None:
    conn = server.admin_connect()
    try:
        conn.cursor().execute(f"CREATE ROLE {APP_USER} LOGIN CREATEDB PASSWORD '{APP_PASSWORD}'")
    finally:
        conn.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DBServer]:
    """A MariaDB (MySQL-compatible) server for the whole session."""
    server = start_mariadb(tmp_path_factory.mktemp("mariadb"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[DBServer]:
    """A PostgreSQL server for the whole session."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
