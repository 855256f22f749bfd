"""A Spark standalone cluster on this machine: a master and workers as separate JVM processes.

``local[N]`` runs Spark's driver and executors in one JVM. A real cluster does not: the
master schedules, each worker starts executors in JVMs of their own, and the executors start
their own Python workers, sharing neither the driver's interpreter nor its memory. This module
starts such a cluster from the pyspark distribution's own launcher (``bin/spark-class``, the
script Spark's ``sbin/start-master.sh`` and ``start-worker.sh`` call), so that the tests and
``bench/bench_spark_cluster.py`` run ``corridor``'s Spark engine through ``spark-submit``
exactly as on a multi-machine cluster (see docs/spark.md for one).

Everything binds to 127.0.0.1 on free ports; the processes are stopped (and their scratch
directories removed) when the context manager exits, also on an error.

Example (not run by the doctests: it starts three JVMs)::

    with StandaloneCluster(workers=2) as cluster:
        result = cluster.submit(["corridor/engines/spark.py", "--archive", a, "--out", o])
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def spark_home() -> Path:
    """The pyspark distribution's folder (it holds ``bin/spark-class`` and the jars)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StandaloneCluster:
    """A master and ``workers`` workers, each worker offering ``cores_per_worker`` cores and
    ``memory_per_worker`` of executor memory (Spark's size syntax, e.g. ``"1g"``)."""

    workers: int = 2
    cores_per_worker: int = 1
    memory_per_worker: str = "1g"
    start_timeout_s: float = 90.0
    python: str = sys.executable
    _procs: list[subprocess.Popen] = field(default_factory=list, repr=False)
    _dir: Path | None = field(default=None, repr=False)
    master_url: str = ""
    web_port: int = 0

    # -------------------------------------------------------------- life cycle
    def __enter__(self) -> StandaloneCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        home = spark_home()
        env.update({
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": self.python,
            "SPARK_LOG_DIR": str(self._dir / "logs"),
            "SPARK_WORKER_DIR": str(self._dir / "work"),
        })
        env.pop("PYSPARK_GATEWAY_PORT", None)
        return env

    def _launch(self, name: str, *args: str) -> None:
        log = open(self._dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *args], env=self._env(),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: stop() ends the JVM and its children
        log.close()
        self._procs.append(proc)

    def start(self) -> None:
        """Start the master, then the workers; return once every worker is registered."""
        self._dir = Path(tempfile.mkdtemp(prefix="corridor-spark-cluster-"))
        (self._dir / "logs").mkdir()
        (self._dir / "work").mkdir()
        port, self.web_port = _free_port(), _free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        try:
            self._launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                         "--port", str(port), "--webui-port", str(self.web_port))
            self._wait(lambda s: s is not None, "the master")
            for i in range(self.workers):
                self._launch(f"worker-{i}", "org.apache.spark.deploy.worker.Worker",
                             "--host", "127.0.0.1", "--webui-port", str(_free_port()),
                             "--cores", str(self.cores_per_worker), "--memory", self.memory_per_worker,
                             "--work-dir", str(self._dir / "work"), self.master_url)
            self._wait(lambda s: s is not None and self.alive_workers(s) >= self.workers,
                       f"{self.workers} workers")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process of the cluster and remove its scratch folder."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -------------------------------------------------------------- state
    def state(self) -> dict | None:
        """The master's JSON status page (workers, applications), or None before it answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/json/", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            return None

    @staticmethod
    def alive_workers(state: dict) -> int:
        return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            dead = [p for p in self._procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a Spark process exited while starting {what}: {self.logs()}")
            if ready(self.state()):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{what} did not start in {self.start_timeout_s:.0f} s: {self.logs()}")

    def logs(self) -> str:
        """The tail of every process's log (for error messages)."""
        if self._dir is None:
            return ""
        return "\n".join(f"--- {f.name}\n" + f.read_text(errors="replace")[-2000:]
                         for f in sorted(self._dir.glob("*.log")))

    # -------------------------------------------------------------- jobs
    def submit(self, app_args: list[str], *, conf: dict[str, str] | None = None,
               timeout_s: float = 900.0) -> subprocess.CompletedProcess:
        """``spark-submit`` an application to this cluster (client deploy mode).

        Each executor gets one core and ``memory_per_worker`` (so the job spreads over every
        worker); ``conf`` adds or overrides ``--conf`` settings.
        """
        settings = {
            "spark.executor.cores": str(self.cores_per_worker),
            "spark.executor.memory": self.memory_per_worker,
            "spark.cores.max": str(self.workers * self.cores_per_worker),
            "spark.pyspark.python": self.python,
            "spark.pyspark.driver.python": self.python,
            "spark.ui.enabled": "false",
        }
        settings.update(conf or {})
        cmd = [str(spark_home() / "bin" / "spark-submit"), "--master", self.master_url]
        for k, v in settings.items():
            cmd += ["--conf", f"{k}={v}"]
        return subprocess.run(cmd + app_args, env=self._env(), capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
