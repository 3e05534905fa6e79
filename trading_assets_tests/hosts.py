"""Several hosts on one machine: Celery workers in network namespaces of their own.

Each worker runs in a namespace (`ip netns`) joined to a bridge in the root namespace by
a veth pair: the bridge is 10.77.S.1 (the "service host" the workers see), worker N is
10.77.S.(10+N). A worker's namespace has only its loopback and that link, so it reaches
the broker, the result backend, the Dagster instance and the result store only over the
network; it gets its own DAGSTER_HOME, HOME and TMPDIR (no instance file, no DuckDB file
shared with the head).

The services of this machine (RabbitMQ 5672, Redis 6379, PostgreSQL 5432) listen on
127.0.0.1 only, so `Forwarder` relays 10.77.S.1:PORT to 127.0.0.1:PORT (asyncio, in the
test process). That relay is a test artifact: on real hosts the services listen on the
network (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from trading_assets_tests.e2e import CLI, REPO, postgres_database

BIN = Path(sys.executable).parent
SERVICE_PORTS = (5672, 6379, 5432)  # RabbitMQ, Redis, PostgreSQL


def skip_unless_netns() -> None:
    """Skip (with the reason) where namespaces cannot be made: not root, or no `ip netns`."""
    if os.geteuid() != 0:
        pytest.skip("multi-host tests need root (ip netns, veth, bridge)")
    if shutil.which("ip") is None:
        pytest.skip("multi-host tests need iproute2's `ip` (ip netns)")
    probe = f"taprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"`ip netns add` is not available here: {made.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], check=False)


def ip(*args: str, netns: str | None = None) -> None:
    cmd = ["ip", "netns", "exec", netns, "ip", *args] if netns else ["ip", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")


class Forwarder:
    """Relay TCP connections from (listen_host, port) to 127.0.0.1:port, in a thread."""

    def __init__(self, listen_host: str, ports: tuple[int, ...] = SERVICE_PORTS):
        self.listen_host, self.ports = listen_host, ports
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.servers: list[asyncio.base_events.Server] = []
        self.error: BaseException | None = None

    def __enter__(self) -> Forwarder:
        self.thread.start()
        self.ready.wait(10)
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            for port in self.ports:
                server = self.loop.run_until_complete(
                    asyncio.start_server(self._relay(port), self.listen_host, port)
                )
                self.servers.append(server)
        except BaseException as error:  # handed to the test thread
            self.error = error
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        for server in self.servers:
            server.close()
        relays = asyncio.all_tasks(self.loop)  # connections still open: end them quietly
        for task in relays:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*relays, return_exceptions=True))
        self.loop.close()

    def _relay(self, port: int):
        async def handle(reader, writer):
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        return handle


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with suppress(Exception):
            writer.close()


@dataclass
class Worker:
    """One worker host: a namespace, its address, its Celery worker process tree."""

    index: int
    netns: str
    address: str
    root: Path
    proc: subprocess.Popen | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "worker.log"

    @property
    def name(self) -> str:
        """The Celery worker name prefix (`-n`); the full name is NAME@hostname."""
        return self.netns

    def pids(self) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        """SIGKILL every process of the namespace: the host is gone, nothing is cleaned."""
        for pid in self.pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def cpu_seconds(self) -> float:
        """User + system CPU of the namespace's processes and their reaped children."""
        total = 0.0
        for pid in self.pids():
            with suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total


@dataclass
class Cluster:
    """The head's view of the cluster: where services are, and the worker hosts."""

    tag: str
    service_host: str  # the address every host reaches the services at
    queue: str
    workers: list[Worker]
    tmp: Path
    names: list[str] = field(default_factory=list)  # full worker names, once they answer
    head_env: dict[str, str] = field(default_factory=dict)
    store: str = ""  # the result store URL every host uses (the network address)
    instance_url: str = ""  # the Dagster instance database, as the head reaches it

    def worker_env(self, worker: Worker, pg_instance: str, store: str, extra: dict) -> dict:
        home = worker.root / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "deploy" / "dagster.celery.yaml", home / "dagster.yaml")
        (worker.root / "tmp").mkdir(exist_ok=True)
        return {
            "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(worker.root),
            "TMPDIR": str(worker.root / "tmp"),
            "LANG": "C.UTF-8",
            "DAGSTER_HOME": str(home),
            "TRADING_ASSETS_PG_URL": pg_instance,
            "TRADING_ASSETS_STORE": store,
            **celery_env(self.service_host, self.queue),
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
            "DAGSTER_EVENT_BATCH_SIZE": "1000",
            **extra,
        }

    def start_worker(self, worker: Worker, env: dict[str, str]) -> None:
        cmd = [
            *("ip", "netns", "exec", worker.netns),
            str(BIN / "dagster-celery"),
            *("worker", "start", "-A", "dagster_celery.app"),
            *("-y", str(REPO / "deploy" / "celery_worker.yaml")),
            *("-n", worker.name, "-q", self.queue, "--", "--concurrency", "1"),
        ]
        out = open(worker.log, "ab")  # noqa: SIM115 (held by the child)
        worker.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_workers_ready(self, timeout: float = 120) -> list[str]:
        """Ping the workers through the broker until all answer; their full names."""
        from celery import Celery

        app = Celery(broker=celery_env("127.0.0.1", self.queue)["TRADING_ASSETS_CELERY_BROKER"])
        deadline = time.monotonic() + timeout
        want = {w.name for w in self.workers}
        while True:
            replies = app.control.ping(timeout=2)
            names = [name for reply in replies for name in reply]
            if want <= {n.split("@")[0] for n in names}:
                return sorted(n for n in names if n.split("@")[0] in want)
            for w in self.workers:
                if w.proc is not None and w.proc.poll() is not None:
                    raise AssertionError(f"worker {w.name} exited: {w.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"workers {sorted(want)} did not answer; got {names}")
            time.sleep(1)


def celery_env(host: str, queue: str) -> dict[str, str]:
    return {
        "TRADING_ASSETS_CELERY_BROKER": f"amqp://guest:guest@{host}:5672//",
        "TRADING_ASSETS_CELERY_BACKEND": f"redis://{host}:6379/0",
        "TRADING_ASSETS_CELERY_QUEUE": queue,
    }


def _free_subnet() -> int:
    used = subprocess.run(["ip", "-br", "addr"], capture_output=True, text=True).stdout
    for s in range(100 + os.getpid() % 100, 250):
        if f"10.77.{s}." not in used:
            return s
    raise RuntimeError("no free 10.77.S.0/24 subnet for the test bridge")


@contextmanager
def cluster(tmp: Path, n_workers: int) -> Iterator[Cluster]:
    """A bridge, the forwarder on it and N worker namespaces; all removed afterwards,
    after a failed test too. Workers are started by the caller (`start_worker`)."""
    tag = uuid.uuid4().hex[:6]
    subnet = _free_subnet()
    bridge, service = f"tab{tag}", f"10.77.{subnet}.1"
    workers = [
        Worker(i, f"ta{tag}w{i}", f"10.77.{subnet}.{10 + i}", tmp / f"worker{i}")
        for i in range(1, n_workers + 1)
    ]
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{service}/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for w in workers:
            w.root.mkdir(parents=True, exist_ok=True)
            host_end, ns_end = f"tah{tag}{w.index}", f"taw{tag}{w.index}"
            subprocess.run(["ip", "netns", "add", w.netns], check=True)
            ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            ip("link", "set", host_end, "master", bridge, "up")
            ip("link", "set", ns_end, "netns", w.netns)
            ip("addr", "add", f"{w.address}/24", "dev", ns_end, netns=w.netns)
            ip("link", "set", ns_end, "up", netns=w.netns)
            ip("link", "set", "lo", "up", netns=w.netns)
        with Forwarder(service):
            yield Cluster(tag, service, f"celery_{tag}", workers, tmp)
    finally:
        for w in workers:
            w.kill()
            if w.proc is not None:
                with suppress(subprocess.TimeoutExpired):
                    w.proc.wait(timeout=10)
            subprocess.run(["ip", "netns", "del", w.netns], capture_output=True)
            # a namespace still referenced lingers with its link: delete the pair itself
            subprocess.run(["ip", "link", "del", f"tah{tag}{w.index}"], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)


@contextmanager
def deployment(tmp: Path, n_workers: int, extra_env: dict[str, str] | None = None):
    """The tested multi-host setup: a fresh instance database and result store (names
    prefixed `celery_`), the head's DAGSTER_HOME on deploy/dagster.celery.yaml, migrated,
    and N workers started and answering. Yields the Cluster."""
    extra = extra_env or {}
    with (
        postgres_database("celery_instance") as instance_url,
        postgres_database("celery_store") as store_url,
        cluster(tmp, n_workers) as c,
    ):
        # the store URL travels in each run's config: it names the network address
        c.store = store_url.replace("127.0.0.1", c.service_host)
        c.instance_url = instance_url
        head = tmp / "head"
        head.mkdir(exist_ok=True)
        shutil.copyfile(REPO / "deploy" / "dagster.celery.yaml", head / "dagster.yaml")
        c.head_env = {
            **os.environ,
            "DAGSTER_HOME": str(head),
            "TRADING_ASSETS_PG_URL": instance_url,
            "TRADING_ASSETS_STORE": c.store,
            **celery_env("127.0.0.1", c.queue),
            **extra,
        }
        migrated = subprocess.run(
            [str(CLI.parent / "dagster"), "instance", "migrate"],
            env=c.head_env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        worker_pg = instance_url.replace("127.0.0.1", c.service_host)
        for w in c.workers:
            c.start_worker(w, c.worker_env(w, worker_pg, c.store, extra))
        c.names = c.wait_workers_ready()
        yield c
