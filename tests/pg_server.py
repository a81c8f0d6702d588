"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl into a temporary folder,
listening only on a unix socket in that folder (no TCP), on a port number no other server
here uses, stopped and removed at the end.

The binaries are found in order: $KETALOG_PG_BINDIR, `pg_config --bindir`, the newest
/usr/lib/postgresql/*/bin (Debian's postgresql package), then PATH. Without any, the
`pgserver` package is used if it is installed; otherwise `find()` says why not.

initdb and postgres refuse to run as root. As root the server runs as the unprivileged
`nobody` account instead: the folder is made over to it and each command runs with its
uid and gid (and no supplementary groups). The tests still connect as root, through the
socket, which root may open whatever its owner.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
UNPRIVILEGED_ACCOUNT = "nobody"
START_TIMEOUT_S = 60


class Unavailable(Exception):
    """No PostgreSQL could be started here; the message says why."""


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path | None:
    candidates: list[Path] = []
    if os.environ.get("KETALOG_PG_BINDIR"):
        candidates.append(Path(os.environ["KETALOG_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                           key=version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    return next((c for c in candidates if _has_server(c)), None)


def _folder_for(root_user: bool) -> str:
    """Where the server's folder goes: the temp folder, unless the socket path would be
    too long for a unix socket (about 100 bytes) or, as root, `nobody` could not reach
    it (a parent without o+x, e.g. TMPDIR under /root)."""
    def reachable(path: Path) -> bool:
        return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))

    for folder in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        path = Path(folder)
        if (path.is_dir() and len(str(path)) < 60 and os.access(path, os.W_OK)
                and (not root_user or reachable(path))):
            return str(path)
    raise Unavailable("no temporary folder the PostgreSQL server's account can reach")


def _free_port() -> int:
    """A port nothing listens on now; the server uses it for its socket's name only."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server. `conninfo()` is a libpq connection string for psycopg."""
    host: str               # the socket folder
    port: int
    superuser: str
    stop: Callable[[], None] = field(repr=False)
    log: Path | None = None

    def conninfo(self, dbname: str = "postgres", user: str | None = None) -> str:
        return (f"host={self.host} port={self.port} dbname={dbname} "
                f"user={user or self.superuser}")


def _runner(root: Path) -> tuple[dict[str, object], Callable[[Path], None]]:
    """subprocess keyword arguments that run a command as the server's account, and how
    to make a path over to that account."""
    if os.geteuid() != 0:
        return {}, lambda path: None
    try:
        account = pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
    except KeyError as exc:
        raise Unavailable(f"running as root and there is no '{UNPRIVILEGED_ACCOUNT}' account "
                          "to run PostgreSQL as (initdb refuses root)") from exc
    uid, gid = account.pw_uid, account.pw_gid

    def give(path: Path) -> None:
        os.chown(path, uid, gid)

    # cwd: postgres must be able to stat its working folder
    return {"user": uid, "group": gid, "extra_groups": [], "cwd": str(root)}, give


def start_binaries(bindir: Path, *, tcp: bool = False, durable: bool = False) -> Server:
    """`tcp`: also listen on 127.0.0.1 (the conninfo then goes over loopback, as a
    workstation's does); `durable`: fsync and synchronous commit on, as a clinic's server
    runs (benchmarks), instead of the tests' faster settings."""
    root = Path(tempfile.mkdtemp(prefix="ketalog-pg-", dir=_folder_for(os.geteuid() == 0)))
    data, sockets, log = root / "data", root / "run", root / "server.log"
    as_server, give = _runner(root)
    sockets.mkdir(mode=0o700)
    log.touch(mode=0o600)
    for path in (root, sockets, log):
        give(path)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C",
           "TZ": "UTC"}

    def run(*args: str) -> None:
        done = subprocess.run(args, env=env, capture_output=True, text=True,
                              timeout=START_TIMEOUT_S, **as_server)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()
            if log.exists():
                detail += "\n" + log.read_text(errors="replace")[-2000:]
            raise Unavailable(f"{Path(args[0]).name} failed: {detail}")

    port = _free_port()
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
        listen = "127.0.0.1" if tcp else ""
        safety = ("" if durable else
                  "-c fsync=off -c synchronous_commit=off -c full_page_writes=off ")
        options = (f"-c listen_addresses='{listen}' -c port={port} -k {sockets} " + safety +
                   "-c max_connections=40 -c shared_buffers=16MB")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
            "-w", "-t", str(START_TIMEOUT_S), "start")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise

    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        try:
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                            "-w", "stop"], env=env, capture_output=True,
                           timeout=START_TIMEOUT_S, **as_server)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)  # a run that never reaches the fixture's teardown
    return Server(host="127.0.0.1" if tcp else str(sockets), port=port, superuser=SUPERUSER,
                  stop=stop, log=log)


def start_pgserver() -> Server:
    """pgserver ships its own binaries and, as root, runs them as an account of its own."""
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="ketalog-pgserver-"))
    server = pgserver.get_server(root / "data", cleanup_mode="delete")
    port = getattr(server.get_postmaster_info(), "port", None) or 5432

    def stop() -> None:
        try:
            server.cleanup()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    return Server(host=str(server.get_socket_dir()), port=int(port), superuser="postgres",
                  stop=stop)


def start() -> Server:
    """Start a server, or raise Unavailable with the reason."""
    bindir = find_bindir()
    if bindir is not None:
        return start_binaries(bindir)
    try:
        import pgserver  # noqa: F401
    except ImportError:
        raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found "
                          "($KETALOG_PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin, "
                          "PATH) and the pgserver package is not installed; install Debian's "
                          "postgresql package") from None
    return start_pgserver()
