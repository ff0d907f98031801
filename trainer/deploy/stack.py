"""The whole scaled-out app on one machine: PostgreSQL, N `trainer serve` instances, nginx, one URL.

`scripts/scale-out` runs `main()`. PostgreSQL is the server a URL names, or a throwaway cluster made for
the run and removed after it. The database URL reaches the instances through their environment, never
their command line (which every local user can read in `ps`), and is never printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from trainer.deploy.local_net import free_port, wait_until_answering
from trainer.deploy.nginx import Nginx, NginxUnavailable, start_nginx
from trainer.deploy.postgres_local import LocalPostgres, PostgresUnavailable, start_local_postgres
from trainer.team.access import refuse_open_without_users
from trainer.team.database import StoreError

START_TIMEOUT = 120.0  # seconds for one instance to answer


class StackError(RuntimeError):
    """The stack could not start; str() is one line for the user."""


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[str]
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing flushed, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    url: str  # the proxy's URL: the one users open
    database_url: str = field(repr=False)  # holds the password: never in a repr
    instances: list[Instance]
    nginx: Nginx
    run_dir: Path
    postgres: LocalPostgres | None = None  # the throwaway cluster, when we made one
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop nginx, the instances and a throwaway PostgreSQL (deleting it); safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.nginx.stop()
        for instance in self.instances:
            instance.stop()
        if self.postgres is not None:
            self.postgres.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _pump(stream: IO[str], log: IO[str]) -> None:
    for line in stream:
        log.write(line)
        log.flush()


def launch_instance(database_url: str, run_dir: Path, n: int, extra: list[str] | None = None) -> Instance:
    """Start one `trainer serve` on 127.0.0.1, its output going to `run_dir/instance-N.log`."""
    port = free_port()
    log = run_dir / f"instance-{n}.log"
    env = {**os.environ, "TRAINER_DATABASE_URL": database_url, "TRAINER_INSTANCE": f"instance-{n}"}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env.setdefault("TRAINER_DATA_DIR", str(run_dir / "data"))
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "serve", "--port", str(port), *(extra or [])],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    handle = log.open("a", encoding="utf-8")
    threading.Thread(target=_pump, args=(process.stdout, handle), daemon=True).start()
    return Instance(port, process, log)


def cores_for(instances: int) -> list[int] | None:
    """One core per instance, when there are enough: a Python process runs on one core at a time anyway
    (the GIL), and one kept on its own core skips the hand-offs between cores that left both instances
    short of a core each (2 instances on 2 cores: 50 turns/s unpinned, 58-66 pinned). None: don't pin."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return usable[:instances] if 0 < instances <= len(usable) else None


def pin(pid: int, core: int) -> None:
    """Keep a process and every thread it has so far on one core (threads started later inherit it)."""
    for task in map(int, os.listdir(f"/proc/{pid}/task")):  # the main thread is one of them
        try:
            os.sched_setaffinity(task, {core})
        except (ProcessLookupError, PermissionError):
            continue  # a thread that ended meanwhile


def wait_for(instance: Instance, n: int) -> None:
    """Return once the instance answers HTTP; a crash or a silent start is a StackError naming its log."""
    try:
        answered = wait_until_answering(f"http://{instance.address}/config", instance.alive, START_TIMEOUT)
    except TimeoutError:
        raise StackError(
            f"instance {n} did not answer within {START_TIMEOUT:.0f} s (see {instance.log})"
        ) from None
    if not answered:
        tail = instance.log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise StackError(f"instance {n} exited: {tail[0]}")


def start_stack(
    instances: int = 2,
    database_url: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    serve_args: list[str] | None = None,
    pin_cores: bool = True,
) -> Stack:
    """PostgreSQL (the URL's, or a throwaway one), migrated once, then the instances (each on a core of
    its own when there are as many cores and `pin_cores`), then nginx."""
    if instances < 1:
        raise StackError("--instances: at least 1")
    run_dir = Path(tempfile.mkdtemp(prefix="trainer-stack-"))
    postgres = None
    started: list[Instance] = []
    try:
        if database_url is None:
            postgres = start_local_postgres()
            database_url = postgres.url
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise StackError(
                "--database-url: several instances share one PostgreSQL server (postgresql://...)"
            )
        from trainer.team.store import open_store

        store = open_store(database_url)  # migrate before the instances start, and check it is reachable
        store.db.checkpointer()
        add_user = "trainer users add NAME --role manager --team T --database-url URL"
        refuse_open_without_users(host, store, add_user)
        store.db.pools.close()
        started.extend(launch_instance(database_url, run_dir, n, serve_args) for n in range(1, instances + 1))
        cores = (cores_for(instances) or []) if pin_cores else []  # none: more instances than cores
        for instance, core in zip(started, cores, strict=False):
            pin(instance.process.pid, core)  # at once: the threads it starts from now on inherit the core
        for n, instance in enumerate(started, start=1):  # they start side by side
            wait_for(instance, n)
        for instance, core in zip(started, cores, strict=False):
            pin(instance.process.pid, core)  # and any thread it had started before the first pin
        nginx = start_nginx(host, port or free_port(), [i.address for i in started], run_dir / "nginx")
    except (StoreError, PostgresUnavailable, NginxUnavailable) as exc:
        _cleanup(started, postgres, run_dir)
        raise StackError(str(exc)) from None
    except BaseException:
        _cleanup(started, postgres, run_dir)
        raise
    return Stack(nginx.url, database_url, started, nginx, run_dir, postgres)


def _cleanup(started: list[Instance], postgres: LocalPostgres | None, run_dir: Path) -> None:
    for instance in started:
        instance.stop()
    if postgres is not None:
        postgres.stop()
    shutil.rmtree(run_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/scale-out",
        description="Start PostgreSQL, N app instances and nginx in front of them; print one URL.",
    )
    parser.add_argument("--instances", type=int, default=2, help="app processes behind the proxy (default 2)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TRAINER_DATABASE_URL"),
        help="an existing PostgreSQL server (default: $TRAINER_DATABASE_URL, else a throwaway local cluster)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="where nginx listens (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let instances run on any core (default: each on its own while there are enough cores)",
    )
    args = parser.parse_args(argv)
    try:
        stack = start_stack(
            args.instances, args.database_url, args.host, args.port, pin_cores=not args.no_pin
        )
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: done.set())
    where = "a throwaway PostgreSQL (deleted on exit)" if stack.postgres else "your PostgreSQL server"
    print(f"Discovery Trainer is running at {stack.url}  ({args.instances} instances behind nginx, {where})")
    print(f"logs: {stack.run_dir}  (Ctrl+C stops everything)", flush=True)
    reported: set[int] = set()
    try:
        while not done.wait(1.0):
            for n, instance in enumerate(stack.instances, start=1):
                if not instance.alive() and n not in reported:
                    reported.add(n)
                    print(
                        f"instance {n} stopped (exit {instance.process.returncode}); nginx routes around it"
                    )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
