"""The lab's performance figures, side by side in one run (issue 12).

    .venv/bin/python benchmarks/lab_figures.py [--latency-ms 200] [--chapters 01,02,04]
        [--learners 1,10,50] [--skip calls,clicks,cold,memory]

Prints:

- per chapter, the AWS calls and the wall time of its notebook's Run All (first cell started
  to last cell answered; the kernel's start is not counted), on the lab's own backend and
  through a local proxy that holds every request ``--latency-ms`` before forwarding it (a
  learner far from the region), next to the fewest calls that do the chapter's job;
- per form with a Create button, the AWS calls and the wall time of one click (the earlier
  chapters caught up, the form's own resource not made yet), with no added latency and through
  the same delaying proxy (issue 12's target: under 2 s at 200 ms per call);
- the cold start (``benchmarks/cold_start.py``, one round);
- resident memory (the process and its children): a Jupyter server, one kernel after
  chapters 01-02, the learner's own backend after 01-02, and one class backend after 1, 10
  and 50 learners have each built chapters 01-02, with the memory per extra learner.

Both call columns use the lab's backend process, reached by URL (``LAB_BACKEND=endpoint``):
the only difference is the proxy. Each chapter starts from an emptied backend and a new lab
home, its earlier chapters caught up first (not counted). The class's learners build chapters
01-02 with the lab's catch-up (``chapter("03").catch_up_earlier()``: the same resources, the
same calls as the forms make, without a notebook) so that 50 learners fit in minutes; the
kernel's figure comes from a real Run All. Calls are counted with ``LAB_CALL_LOG``
(``helpers.core.read_cache``). The default run takes about 8 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import psutil
from jupyter_client import KernelManager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.core import backend  # noqa: E402  (the repository, not an installed copy)
from helpers.core.backend_process import learner_keys  # noqa: E402
from helpers.core.settings import learner_account_id  # noqa: E402
from helpers.instructor import notebook_client  # noqa: E402

# The fewest calls that do each chapter's job on AWS, by hand (a learner who knows the ids).
FEWEST_CALLS = {
    "00": (0, "reads nothing it needs: an introduction"),
    "01": (
        4,
        "CreateVpc, CreateSubnet, CreateRouteTable, AssociateRouteTable: tags ride on the "
        "creates, their answers show them",
    ),
    "02": (2, "CreateVpcEndpoint on the route table, then DescribeRouteTables to show the route"),
    "03": (0, "the function's code runs in the kernel: no AWS call"),
    "04": (4, "CreateRole, AttachRolePolicy, CreateFunction (VpcConfig), GetFunction to show it"),
    "05": (2, "CreateTable, DescribeTable until ACTIVE (once on moto)"),
    "06": (
        6,
        "CreateRestApi, GetResources, CreateResource, PutMethod, PutIntegration, CreateDeployment",
    ),
    "07": (2, "Invoke the function, Scan the table to see its item"),
    "08": (
        12,
        "one Delete per resource the lab made (API, function, role policy, role, table, "
        "endpoint, 2 × route table/association, subnet, VPC, …)",
    ),
}


def process_tree_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MB."""
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # ended while we counted
            total += child.memory_info().rss
    return total / 2**20


def delaying_proxy(target: str, latency_ms: int) -> ThreadingHTTPServer:
    """A local HTTP forwarder that sleeps ``latency_ms`` per request, then forwards it to
    ``target`` unchanged (Host header included, so SigV4 signatures still match)."""
    backend_host, backend_port = urlsplit(target).hostname, urlsplit(target).port

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer goes out as headers, then body: with Nagle's algorithm on, the body waits
        # for the client's delayed ACK of the headers (40 ms on Linux), a delay of this proxy
        # and not of AWS. botocore's own connections (urllib3) set TCP_NODELAY too.
        disable_nagle_algorithm = True

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            time.sleep(latency_ms / 1000)
            connection = http.client.HTTPConnection(backend_host, backend_port, timeout=300)
            connection.putrequest(
                self.command, self.path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in self.headers.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            answer = connection.getresponse()
            content = answer.read()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def notebook(number: str) -> Path:
    (path,) = (ROOT / "notebooks").glob(f"{number}-*.ipynb")
    return path


def lab_environment(**extra: str) -> dict:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAB_"))}
    return {**inherited, "LAB_REGION": "us-east-1", "LAB_STRICT_ERRORS": "1", **extra}


def catch_up(environment: dict, number: str) -> None:
    subprocess.run(
        [sys.executable, "-c", f"import helpers; helpers.chapter({number!r}).catch_up_earlier()"],
        env=environment,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def run_all(path: Path, environment: dict, km: KernelManager | None = None) -> float:
    """Run a notebook's cells in order; seconds from the first cell's start to the last's end."""
    nb = nbformat.read(path, as_version=4)
    options = {"km": km} if km else {}
    with notebook_client(nb, path.parent, timeout=900, **options) as runner:
        runner.execute(env=environment)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    if errors:
        raise RuntimeError(f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}")
    times = [c.metadata.get("execution", {}) for c in nb.cells if c.cell_type == "code"]
    first, last = times[0]["iopub.execute_input"], times[-1]["shell.execute_reply"]
    return (
        datetime.fromisoformat(last[:26].rstrip("Z"))
        - datetime.fromisoformat(first[:26].rstrip("Z"))
    ).total_seconds()


@contextlib.contextmanager
def delayed_backend(home: Path, latency_ms: int):
    """A backend of the benchmark's own with the delaying proxy before it: yields the running
    backend, the proxy's URL and the backend's keys as environment variables."""
    running = backend.start(home, "us-east-1")
    proxy = delaying_proxy(running.url, latency_ms)
    keys = {
        "AWS_ACCESS_KEY_ID": running.keys["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": running.keys["aws_secret_access_key"],
    }
    try:
        yield running, f"http://127.0.0.1:{proxy.server_address[1]}", keys
    finally:
        proxy.shutdown()
        backend.stop(home)


def record(results: dict, what: str, row: str, mode: str, log: Path, seconds: float) -> None:
    """One figure: the calls ``log`` holds and ``seconds``, kept in ``results`` and shown."""
    calls = len(log.read_text().split()) if log.exists() else 0
    results[row][mode] = (calls, seconds)
    print(f"  {what} {row} {mode}: {calls} calls, {seconds:.2f} s", file=sys.stderr, flush=True)


def chapter_calls(chapters: list[str], latency_ms: int, scratch: Path) -> dict:
    """Per chapter: {"direct": (calls, s), "delayed": (calls, s)}."""
    home = scratch / "calls-backend"
    results: dict = collections.defaultdict(dict)
    with delayed_backend(home, latency_ms) as (running, proxy_url, keys):
        for number in chapters:
            for mode, url in (("direct", running.url), ("delayed", proxy_url)):
                backend.wipe(home)
                log = scratch / f"calls-{number}-{mode}.log"
                environment = lab_environment(
                    LAB_BACKEND="endpoint",
                    AWS_ENDPOINT_URL=url,
                    LAB_HOME=str(scratch / f"home-{number}-{mode}"),
                    **keys,
                )
                catch_up(environment, number)
                seconds = run_all(notebook(number), {**environment, "LAB_CALL_LOG": str(log)})
                record(results, "chapter", number, mode, log, seconds)
    return results


# The forms with a Create button: (row label, chapter, the chapter's form, forms submitted first).
CREATE_FORMS = [
    ("01 VPC and more", "01", None, []),
    ("02 endpoint", "02", None, []),
    ("04 execution role", "04", "role", []),
    ("04 function", "04", "function", ["role"]),
    ("05 table", "05", None, []),
    ("06 API", "06", None, []),
]
CLICK_MARK = "CLICK-FIGURES "
# Run in a process of its own (argv: chapter, form or "", forms first, log), as a learner's kernel
# runs the notebook: its earlier cells, through the same backend, have made the clients and
# read the account before the click.
ONE_CLICK = f"""
import json, os, sys, time
import helpers
from helpers.core.read_cache import CALL_LOG_ENV
from IPython.core.interactiveshell import InteractiveShell
number, which, first, log = sys.argv[1:5]
InteractiveShell.instance()  # a kernel's, there before any cell: the form's output shows through it
chapter = helpers.chapter(number)
chapter.catch_up_earlier()
for earlier_form in filter(None, first.split(",")):
    assert chapter.form(earlier_form).submit_unless_done().ok
view = chapter.form(which) if which else chapter.form()
os.environ[CALL_LOG_ENV] = log
started = time.perf_counter()
result = view.submit_unless_done()
seconds = time.perf_counter() - started
del os.environ[CALL_LOG_ENV]
assert result is not None and result.ok, result and result.problems
print({CLICK_MARK!r} + json.dumps({{"seconds": seconds}}))
"""


def click_figures(latency_ms: int, scratch: Path) -> dict:
    """Per form: {"direct": (calls, s), "delayed": (calls, s)} of one Create click."""
    home = scratch / "clicks-backend"
    results: dict = collections.defaultdict(dict)
    with delayed_backend(home, latency_ms) as (running, proxy_url, keys):
        for label, number, which, first in CREATE_FORMS:
            for mode, url in (("direct", running.url), ("delayed", proxy_url)):
                backend.wipe(home)
                log = scratch / f"click-{number}-{which}-{mode}.log"
                log.unlink(missing_ok=True)
                environment = lab_environment(
                    LAB_BACKEND="endpoint",
                    AWS_ENDPOINT_URL=url,
                    LAB_HOME=str(scratch / f"click-home-{number}-{which}-{mode}"),
                    **keys,
                )
                ran = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        ONE_CLICK,
                        number,
                        which or "",
                        ",".join(first),
                        str(log),
                    ],
                    env=environment,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                if ran.returncode:
                    raise RuntimeError(f"click {label} {mode} failed:\n{ran.stderr[-3000:]}")
                (figures,) = [
                    line[len(CLICK_MARK) :]
                    for line in ran.stdout.splitlines()
                    if line.startswith(CLICK_MARK)
                ]
                record(results, "click", label, mode, log, json.loads(figures)["seconds"])
    return results


def jupyter_server_mb(scratch: Path) -> float:
    """A Jupyter server started as a learner starts it (jupyter lab), with no kernel."""
    environment = lab_environment(LAB_HOME=str(scratch / "jupyter-home"), LAB_BACKEND="embedded")
    port = 18000 + os.getpid() % 1000
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",  # harmless as a user; needed where the benchmark runs as root
            f"--port={port}",
            "--IdentityProvider.token=",
            f"--ServerApp.root_dir={ROOT}",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10)  # as a browser opens it
        time.sleep(2)
        return process_tree_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def kernel_and_backend_mb(scratch: Path) -> tuple[float, float]:
    """One kernel after Run All of chapters 01 and 02 in it, and the learner's own backend."""
    home = scratch / "learner-home"
    environment = lab_environment(LAB_HOME=str(home), LAB_BACKEND="embedded")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=environment, cwd=str(ROOT / "notebooks"))
    try:
        for number in ("01", "02"):
            run_all(notebook(number), environment, km=km)
        backend_mb = process_tree_mb(backend.running(home).pid)
        # the kernel started the backend: it is the kernel's child, but counted on its own
        kernel = process_tree_mb(km.provisioner.process.pid) - backend_mb
    finally:
        km.shutdown_kernel(now=True)
        backend.stop(home)
    return kernel, backend_mb


def class_backend_mb(sizes: list[int], scratch: Path) -> dict[int, float]:
    """The class backend's memory once 1, 10, 50… learners have each built chapters 01-02."""
    home = scratch / "class"
    running = backend.start(home, "us-east-1", class_port=0)
    info = None
    while not (info and info["warm"]["done"]):  # None: busy warming, ask again
        time.sleep(0.2)
        info = backend.server_info(running.url, running.keys, timeout=backend.BUSY_SERVER_SECONDS)
    figures = {0: process_tree_mb(running.pid)}

    def learner(index: int) -> None:
        name = f"learner-{index:03d}"
        secret = learner_keys(running.keys, learner_account_id(name))["aws_secret_access_key"]
        catch_up(
            lab_environment(
                LAB_BACKEND="class",
                LAB_CLASS_URL=running.url,
                LAB_LEARNER=name,
                LAB_CLASS_SECRET=secret,
                LAB_HOME=str(scratch / f"class-{index}"),
            ),
            "03",
        )

    done = 0
    try:
        with ThreadPoolExecutor(2) as pool:
            for size in sorted(sizes):
                list(pool.map(learner, range(done, size)))
                done = size
                figures[size] = process_tree_mb(running.pid)
                print(
                    f"  class backend, {size} learners: {figures[size]:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        backend.stop(home)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument(
        "--chapters", default="01,02,04", help="comma-separated, e.g. 01,02,04 or all"
    )
    parser.add_argument("--learners", default="1,10,50", help="class sizes to measure")
    parser.add_argument("--skip", default="", help="any of calls,clicks,cold,memory")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    chapters = sorted(FEWEST_CALLS) if args.chapters == "all" else args.chapters.split(",")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lab-figures-") as folder:
        scratch = Path(folder)
        print(
            f"VPC Endpoint Lab figures — {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, Python {sys.version.split()[0]}"
        )
        if "calls" not in skip:
            calls = chapter_calls(chapters, args.latency_ms, scratch)
            print(
                "\nRun All per chapter (earlier chapters caught up first; "
                f"latency {args.latency_ms} ms per call)"
            )
            print(
                f"{'chapter':8} {'calls':>6} {'time s':>7} {'calls':>6} {'time s':>7} "
                f"{'fewest':>7}  why the fewest"
            )
            print(
                f"{'':8} {'— lab backend —':>14} {'— +' + str(args.latency_ms) + ' ms/call —':>15}"
            )
            for number in chapters:
                (direct, direct_s), (delayed, delayed_s) = (
                    calls[number]["direct"],
                    calls[number]["delayed"],
                )
                fewest, why = FEWEST_CALLS[number]
                print(
                    f"{number:8} {direct:>6} {direct_s:>7.1f} {delayed:>6} {delayed_s:>7.1f} "
                    f"{fewest:>7}  {why}"
                )
        if "clicks" not in skip:
            clicks = click_figures(args.latency_ms, scratch)
            print(
                "\nOne Create click per form (earlier chapters caught up, the form's resource "
                f"not made yet; target under 2 s at {args.latency_ms} ms per call)"
            )
            print(f"{'form':20} {'calls':>6} {'s':>6} {'calls':>6} {'s':>6}")
            print(f"{'':20} {'— lab backend —':>13} {'— +' + str(args.latency_ms) + ' ms —':>13}")
            for label, *_ in CREATE_FORMS:
                (direct, direct_s), (delayed, delayed_s) = (
                    clicks[label]["direct"],
                    clicks[label]["delayed"],
                )
                print(f"{label:20} {direct:>6} {direct_s:>6.2f} {delayed:>6} {delayed_s:>6.2f}")
        if "cold" not in skip:
            print("\nCold start (benchmarks/cold_start.py --rounds 1)", flush=True)
            subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "cold_start.py"), "--rounds", "1"],
                cwd=ROOT,
                check=False,
            )
        if "memory" not in skip:
            sizes = [int(size) for size in args.learners.split(",")]
            server = jupyter_server_mb(scratch)
            kernel, own_backend = kernel_and_backend_mb(scratch)
            classes = class_backend_mb(sizes, scratch)
            print("\nResident memory (process and children)")
            print(f"  Jupyter server (jupyter lab, no kernel)        {server:7.0f} MB")
            print(f"  one kernel after Run All of 01 and 02          {kernel:7.0f} MB")
            print(f"  the learner's own backend after 01 and 02      {own_backend:7.0f} MB")
            print(
                "  ⇒ per learner with a backend each              "
                f"{server + kernel + own_backend:7.0f} MB  (target ≤ 450)"
            )
            print(f"  class backend, started and warm                {classes[0]:7.0f} MB")
            previous = None
            for size in sorted(sizes):
                extra = ""
                if previous is not None:
                    per_extra = (classes[size] - classes[previous]) / (size - previous)
                    extra = f"  ({per_extra:.1f} MB per extra learner; target ≤ 30)"
                print(
                    f"  class backend, {size:3d} learners with 01-02     "
                    f"{classes[size]:7.0f} MB{extra}"
                )
                previous = size
    print(f"\n(total run {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
