"""Real systemd in systemd-nspawn containers, for end-to-end tests (docs/DESIGN.md#containers).

A bookworm rootfs is made once with mmdebstrap and cached under
build/cache/rootfs/<key>, the key hashing everything that decides its
content; containers boot it with ``--volatile=overlay`` so every test starts
from the same pristine tree and nothing a test does is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from . import cachelock
from .paths import CACHE

ROOTFS_CACHE = CACHE / "rootfs"
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "python3", "ca-certificates", "adduser")
CONTAINER_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}


def rootfs(extra_packages: tuple[str, ...] = ()) -> Path:
    """The cached rootfs holding BASE_PACKAGES plus ``extra_packages``; built on first use."""
    packages = sorted(set(BASE_PACKAGES) | set(extra_packages))
    recipe = {"suite": "bookworm", "variant": "minbase", "mirror": MIRROR, "include": packages, "format": 1}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    target = ROOTFS_CACHE / key
    cachelock.made_once(target, (target / ".complete").exists, lambda: _debootstrap(recipe, packages, key, target))
    return target


def _debootstrap(recipe: dict, packages: list[str], key: str, target: Path) -> None:
    tmp = ROOTFS_CACHE / f"{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(packages), "bookworm", str(tmp), MIRROR]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"mmdebstrap failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    # The containers reach no Debian mirror: only the repositories a test adds.
    (tmp / "etc/apt/sources.list").write_text("")
    (tmp / ".complete").write_text(json.dumps(recipe) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


class CommandFailed(AssertionError):
    pass


class Container:
    """One booted container. Use as a context manager; ``run`` executes inside it."""

    def __init__(
        self,
        root: Path,
        name: str,
        binds: dict[str, str] | None = None,
        private_network: bool = True,
        extra_args: tuple[str, ...] = (),
    ):
        self.root, self.name = root, name
        self.args = [
            "systemd-nspawn",
            "-D",
            str(root),
            "-b",
            "-M",
            name,
            "--register=no",
            "--keep-unit",
            "--console=passive",
            "--volatile=overlay",
            *extra_args,
        ]
        if private_network:
            self.args.append("--private-network")
        for host, guest in (binds or {}).items():
            self.args.append(f"--bind-ro={host}:{guest}")
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None

    def __enter__(self) -> Container:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        self.log = open(CACHE / f"nspawn-{self.name}.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while self.pid is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"container {self.name} did not start; see {self.log.name}")
            self.pid = self._container_init()
            if self.pid is None:
                time.sleep(0.05)
        # Until systemd has set up its bus, systemctl cannot connect or says "offline": ask again.
        state = ""
        while state in ("", "offline") and time.monotonic() < deadline:
            state = self.run("systemctl is-system-running --wait", check=False, timeout=timeout).stdout.strip()
            if state in ("", "offline"):
                time.sleep(0.1)
        if state not in ("running", "degraded"):
            self.stop()
            raise RuntimeError(f"container {self.name} booted to {state!r}; see {self.log.name}")

    def _container_init(self) -> int | None:
        """The container's PID 1 once nspawn's child has become systemd."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split() if children.exists() else []:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return int(pid)
            except OSError:
                pass
        return None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # nspawn asks the container's systemd to power off
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def run(
        self,
        command: str,
        check: bool = True,
        timeout: float = 300,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a shell command inside the container (all its namespaces, a clean environment)."""
        assert self.pid, "container not started"
        full_env = {**CONTAINER_ENV, **(env or {})}
        argv = [
            "nsenter",
            "-t",
            str(self.pid),
            "-a",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in full_env.items()),
            "sh",
            "-c",
            command,
        ]
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise CommandFailed(
                f"in container {self.name}: `{command}` exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
            )
        return proc

    def write(self, path: str, content: str, mode: str = "0644") -> None:
        self.run(f"install -D -m {mode} /dev/stdin {shlex.quote(path)}", input=content)

    def copy_in(self, host_path: Path | str, guest_path: str, mode: str = "0644") -> None:
        data = Path(host_path).read_bytes()
        argv = ["nsenter", "-t", str(self.pid), "-a", "install", "-D", "-m", mode, "/dev/stdin", guest_path]
        subprocess.run(argv, input=data, check=True, capture_output=True)


def require_root() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("end-to-end tests need root (systemd-nspawn, nsenter)")
