"""Private servers and processes for the fault tests: never the shared PostgreSQL or Redis, which
other people's test runs are using (a fault test stops, kills and restarts what it started, only)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds=15, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port} within {seconds} s")


def require(found, what):
    """Skip without `what` on a laptop; in CI (CI or TEST_DATABASE_URL set) the fault tests must run."""
    if found:
        return
    if os.environ.get("CI") or os.environ.get("TEST_DATABASE_URL"):
        pytest.fail(f"{what} is missing: the fault tests must run in CI")
    pytest.skip(f"{what} is not installed: fault test skipped")


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk."""

    def __init__(self, directory):
        self.port, self.dir, self.process = free_port(), directory, None

    def start(self):
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        wait_for_port(self.port, 10, self.process)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def children(pid):
    """Process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, …
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


class WorkerProcess:
    """`python -m jobs.worker <queues>` as production runs it, in a process group of its own."""

    def __init__(self, env, log_path, queues=("default",)):
        self.env, self.log_path, self.queues, self.process = env, log_path, queues, None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "jobs.worker", *self.queues], env=self.env, cwd=ROOT,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    @property
    def pid(self):
        return self.process.pid

    def horses(self):
        """The work horses running a job now (rq forks one per job; it calls setpgrp, leaving our group)."""
        horses = []
        for pid in children(self.pid):
            try:
                if os.getpgid(pid) == pid:
                    horses.append(pid)
            except ProcessLookupError:  # it has just exited
                pass
        return horses

    def kill(self):
        """SIGKILL the worker's process group and every work horse (which a group kill misses)."""
        horses = self.horses()
        os.killpg(self.pid, signal.SIGKILL)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in horses) and time.monotonic() < deadline:
            time.sleep(0.05)
        return horses

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        horses = self.horses()
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)
        for pid in horses:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def log(self):
        return Path(self.log_path).read_text(errors="replace") if Path(self.log_path).exists() else ""


def temp_dir_for(user):
    """A temporary directory owned by `user` (PostgreSQL refuses to run as root)."""
    import pwd

    path = Path(tempfile.mkdtemp(prefix="va-fault-"))
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: initdb in a temporary directory, a free port, trust auth.

    initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user in a directory
    it owns. Durability is off (fsync=off): the test restarts the server, it never crashes the machine."""

    def __init__(self):
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.root = temp_dir_for("postgres") if self.as_root else Path(tempfile.mkdtemp(prefix="va-fault-"))
        self.data = self.root / "data"

    @staticmethod
    def available():
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists() and (
            os.geteuid() != 0 or shutil.which("runuser") is not None)

    def _run(self, *command, timeout=60):
        command = [str(PG_BIN / command[0]), *command[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}\n{self.log()}")
        return done

    def start(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync", "--no-instructions")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60",
                  "start")
        return self

    def restart(self):
        """`pg_ctl restart -m fast`: every session is cut off; returns once the server accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-m", "fast", "-w", "-t", "60",
                  "restart")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self):
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
