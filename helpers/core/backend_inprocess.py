"""The in-process backend: moto's mock inside the kernel itself, no server and no socket.

``LAB_BACKEND=inprocess``, and the only backend there is in the browser (JupyterLite's Pyodide
kernel, ``sys.platform == "emscripten"``), where no process can be started and no port
opened. moto's ``mock_aws`` intercepts every botocore request the lab makes and answers it
inside the same Python, so nothing leaves the page. It is started once per kernel: each
notebook has its own kernel, hence its own empty account, and the lab's catch-up rebuilds the
earlier chapters from the learner's journal (which lives in the lab home, beside the
notebooks in the browser's persisted file system).

The account and region rules are the embedded backend's: moto's default account, the lab's
region. Lambda functions are stored, never run in Docker, as on the embedded server.
"""

from __future__ import annotations

import os
import threading

from helpers.core import read_cache

MOTO_CONFIG = {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}

_mock = None
_lock = threading.Lock()


def start() -> None:
    """Start moto's mock for this kernel, once; later calls find it running."""
    global _mock
    with _lock:
        if _mock is not None:
            return
        # Read by moto when it builds its IAM backend: the lab's role attaches an AWS managed
        # policy (AWSLambdaVPCAccessExecutionRole), as on the embedded server.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # the lab launches no instances
        from moto import mock_aws  # imported only for this backend: moto takes ~1 s to load

        mock = mock_aws(config=MOTO_CONFIG)
        mock.start()
        _mock = mock


def running() -> bool:
    return _mock is not None


def stop() -> None:
    """Stop the mock, forgetting every resource (tests; a kernel's end does the same)."""
    global _mock
    with _lock:
        if _mock is not None:
            _mock.stop()
            _mock = None
            read_cache.forget_session()  # the facts read from it are gone with it
