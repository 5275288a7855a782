"""Cold start of the embedded backend, with and without the background warm-up.

Prints, for each mode, side by side in one run: start → server answering, the first EC2
call, the first list of endpoint services (made right away, and after a short pause like a
learner reading the first cell), and the server's resident memory. Run:

    .venv/bin/python benchmarks/cold_start.py [--rounds 3] [--pause 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import boto3

from helpers.core import backend


def resident_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def one_round(warm_up: bool, pause: float) -> dict:
    with tempfile.TemporaryDirectory() as home:
        began = time.perf_counter()
        running = backend.start(Path(home), "us-east-1", warm_up=warm_up)
        ready = time.perf_counter() - began
        time.sleep(pause)
        ec2 = boto3.client(
            "ec2",
            endpoint_url=running.url,
            region_name="us-east-1",
            **running.keys,  # the backend serves only its owner's keys
        )
        call = time.perf_counter()
        ec2.describe_vpcs()
        first_ec2 = time.perf_counter() - call
        call = time.perf_counter()
        ec2.describe_vpc_endpoint_services()
        first_services = time.perf_counter() - call
        if warm_up:
            while not backend.server_info(running.url, running.keys)["warm"]["done"]:
                time.sleep(0.1)
        memory = resident_mb(running.pid)
        backend.stop(Path(home))
    return {
        "ready": ready,
        "first_ec2": first_ec2,
        "first_services": first_services,
        "rss_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pause",
        type=float,
        default=5.0,
        help="seconds between start and the first call (a learner reading)",
    )
    args = parser.parse_args()
    results: dict[tuple, list[dict]] = {}
    for _ in range(args.rounds):  # interleaved, so machine noise hits every mode alike
        for warm_up in (False, True):
            for pause in (0.0, args.pause):
                results.setdefault((warm_up, pause), []).append(one_round(warm_up, pause))
    print(f"{'mode':28} {'ready s':>8} {'1st EC2 s':>10} {'1st services s':>15} {'RSS MB':>8}")
    for (warm_up, pause), rounds in results.items():

        def median(key, rounds=rounds):
            values = [r[key] for r in rounds if r[key] is not None]
            return statistics.median(values) if values else float("nan")

        mode = f"{'warm-up' if warm_up else 'no warm-up'}, first call +{pause:.0f} s"
        print(
            f"{mode:28} {median('ready'):8.2f} {median('first_ec2'):10.2f} "
            f"{median('first_services'):15.2f} {median('rss_mb'):8.0f}"
        )
    cold = statistics.median(
        r["first_ec2"] + r["first_services"] for r in results[(False, args.pause)]
    )
    warm = statistics.median(
        r["first_ec2"] + r["first_services"] for r in results[(True, args.pause)]
    )
    print(
        f"first EC2 + first services after a {args.pause:.0f} s pause: "
        f"no warm-up {cold:.2f} s, warm-up {warm:.2f} s, ratio {cold / warm:.1f}x"
    )


if __name__ == "__main__":
    main()
