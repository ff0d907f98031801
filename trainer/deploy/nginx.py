"""nginx in front of the app instances: the config is `deploy/nginx.conf` with its placeholders filled in.

Run from this machine's Debian package (`apt-get install nginx`) in a private folder of its own, so no
system nginx or root-owned path is touched; started in the foreground and stopped with its parent.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from trainer.deploy.local_net import wait_until_answering

# The repository's deploy/nginx.conf; an installed wheel carries the same file inside the package.
_IN_REPO = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
TEMPLATE = _IN_REPO if _IN_REPO.exists() else Path(__file__).resolve().parents[1] / "_deploy" / "nginx.conf"
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")
START_TIMEOUT = 20.0  # seconds for nginx to answer (any status: an instance's own is not ours to judge)


class NginxUnavailable(RuntimeError):
    """No nginx binary here (Debian: `apt-get install nginx`)."""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise NginxUnavailable("nginx not found: install it with `apt-get install nginx`")
    return found


def worker_user() -> str:
    """Workers run as www-data (or nobody) when nginx starts as root, else as whoever started it."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    for name in ("www-data", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return "root"


def render(listen: str, upstreams: list[str], run_dir: Path, template: Path = TEMPLATE) -> str:
    """The config with every placeholder filled: one upstream line per `HOST:PORT`."""
    servers = "\n        ".join(f"server {u} weight=10 max_fails=3 fail_timeout=10s;" for u in upstreams)
    values = {"@RUN_DIR@": str(run_dir), "@USER@": worker_user(), "@LISTEN@": listen, "@SERVERS@": servers}
    lines = []
    for line in template.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):  # the comments explain the placeholders: keep them as written
            for key, value in values.items():
                line = line.replace(key, value)
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    run_dir: Path
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(host: str, port: int, upstreams: list[str], run_dir: Path) -> Nginx:
    """Write the config into `run_dir`, check it (`nginx -t`), start nginx and wait until it answers."""
    binary = nginx_binary()
    run_dir.mkdir(parents=True, exist_ok=True)
    user = worker_user()
    if os.geteuid() == 0:  # the workers (www-data) must reach their temp folders: traverse, never list
        for folder in (run_dir.parent, run_dir):
            folder.chmod(0o711)
    for name in TEMP_DIRS:
        (run_dir / name).mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(run_dir / name, user)
    conf = run_dir / "nginx.conf"
    conf.write_text(render(f"{host}:{port}", upstreams, run_dir), encoding="utf-8")
    args = [binary, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "error.log")]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30, check=False)
    if checked.returncode != 0:
        errors = [line for line in checked.stderr.splitlines() if "[emerg]" in line] or [checked.stderr]
        raise NginxUnavailable(f"nginx -t: {errors[0].split('] ', 1)[-1].strip()}")
    process = subprocess.Popen([*args, "-g", "daemon off;"], stdin=subprocess.DEVNULL)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    try:
        answered = wait_until_answering(url, lambda: process.poll() is None, START_TIMEOUT)
    except TimeoutError:
        process.kill()
        raise NginxUnavailable(f"nginx did not answer at {url} within {START_TIMEOUT:.0f} s") from None
    if not answered:
        log = (run_dir / "error.log").read_text(errors="replace").strip().splitlines()
        raise NginxUnavailable(f"nginx exited: {log[-1] if log else 'no log'}")
    return Nginx(process, run_dir, url)
