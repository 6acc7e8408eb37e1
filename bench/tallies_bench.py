"""Tallies side by side with Isso, and Tribune small vs large, in one run.

    .venv/bin/python bench/tallies_bench.py [--seconds 8] [--workdir /tmp/tribune-bench]

1. Isso's POST /count for 25 threads (its peer script, isso_peer.sh: $ISSO_PEER) vs Tribune's
   GET /api/v1/tallies for 25 articles (the same 25 ids on every request, like a headline page).
2. Tribune on a small site (100 articles, 1,000 comments) vs a large one (100,000 articles,
   1,000,000 comments, seeded by bench/seed_large.py), 25 ids drawn at random over the whole
   site on every request (tallies_random.lua), with the tally cache on and off
   (TRIBUNE_TALLY_CACHE_SECONDS=0).
Both servers run under gunicorn -w 2 on 127.0.0.1; wrk -t2 -c8 as in isso_peer.sh. Databases
are SQLite files in --workdir (seeded once, reused), or PostgreSQL URLs (--small-url/--large-url).
Prints a table and the ratios, and writes them to bench/results/tallies.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
# The peer harness is not part of Tribune: $ISSO_PEER, else the benchmark machine's shared
# bench directory beside this checkout.
ISSO_PEER = Path(os.environ.get("ISSO_PEER") or ROOT.parent / "shared" / "bench" / "isso_peer.sh")
TAG = "bench"
SIZES = {"small": (100, 1_000), "large": (100_000, 1_000_000)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seeded_sqlite(workdir: Path, size: str) -> str:
    """A SQLite file with the size's articles and comments (seeded once, then reused)."""
    articles, comments = SIZES[size]
    path = workdir / f"tallies-{size}.db"
    marker = workdir / f"tallies-{size}.ok"
    if not marker.exists():
        for stale in workdir.glob(f"tallies-{size}.db*"):
            stale.unlink()
        started = time.perf_counter()
        subprocess.run(
            [
                str(VENV_BIN / "python"),
                str(HERE / "seed_large.py"),
                "--database-url",
                f"sqlite:///{path}",
                "--migrate",
                "--articles",
                str(articles),
                "--comments",
                str(comments),
                "--tag",
                TAG,
            ],
            check=True,
        )
        marker.write_text(f"seeded in {time.perf_counter() - started:.1f}s\n")
    return f"sqlite:///{path}"


class Tribune:
    """gunicorn -w 2 serving create_app() with the given settings."""

    def __init__(self, database_url: str, cache_seconds: float, workdir: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "TRIBUNE_TALLY_CACHE_SECONDS": str(cache_seconds),
            "TRIBUNE_RATELIMIT_ENABLED": "false",
        }
        env.pop("REDIS_URL", None)
        self.log = (workdir / f"gunicorn-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/api/v1/tallies?ids=x", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"gunicorn did not start; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(url: str, seconds: float, script: Path | None = None, args: list[str] = ()) -> dict:
    """requests/s, p50 and errors of one wrk run (-t2 -c8, like isso_peer.sh)."""
    command = ["wrk", "-t2", "-c8", f"-d{int(seconds)}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if args:
        command += ["--", *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "errors": int(errors.group(1)) if errors else 0}


def fixed_ids(count: int = 25) -> str:
    return ",".join(f"{TAG}-{i:06d}" for i in range(count))


def run_isso(seconds: float) -> dict:
    """The peer, measured by its own script in this run."""
    out = subprocess.run(
        ["bash", str(ISSO_PEER), str(int(seconds))], check=True, capture_output=True, text=True
    ).stdout
    results = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "isso":
            results[parts[1]] = {"rps": float(parts[2]), "p50": parts[3]}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per scenario")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tribune-bench"))
    parser.add_argument("--small-url", help="database URL of a small site (else SQLite)")
    parser.add_argument("--large-url", help="database URL of a large site (else SQLite)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario")
    parser.add_argument("--skip-isso", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    seconds = args.seconds
    urls = {
        "small": args.small_url or seeded_sqlite(args.workdir, "small"),
        "large": args.large_url or seeded_sqlite(args.workdir, "large"),
    }
    lua = HERE / "tallies_random.lua"
    results: dict = {
        "seconds": seconds,
        "databases": {k: v.split("://")[0] for k, v in urls.items()},
    }

    # The machine is shared and noisy: the sizes run side by side (both servers up, measured
    # alternately, several rounds) and each figure is the median of its rounds.
    samples: dict[str, list[dict]] = {}

    def measure(name: str, url: str, script: Path | None = None, extra: list[str] = ()) -> None:
        result = wrk(url, seconds, script, list(extra))
        samples.setdefault(name, []).append(result)
        print(f"  {name:32} {result['rps']:8.0f} req/s  p50 {result['p50']:>8}", flush=True)

    def scenarios(cache: str, servers: dict[str, Tribune]) -> None:
        for size, server in servers.items():
            base = server.url + "/api/v1/tallies"
            measure(f"{size}_cache_{cache}_fixed25", base + "?ids=" + fixed_ids())
            measure(f"{size}_cache_{cache}_random25", base, lua, [str(SIZES[size][0]), TAG])

    for cache, ttl in (("on", 3), ("off", 0)):
        servers = {size: Tribune(urls[size], ttl, args.workdir) for size in ("small", "large")}
        try:
            for server in servers.values():  # warm up: imports, connections, page cache
                wrk(server.url + "/api/v1/tallies?ids=" + fixed_ids(), 2)
                wrk(server.url + "/api/v1/tallies", 2, lua, [str(SIZES["large"][0]), TAG])
            for _ in range(args.rounds):
                scenarios(cache, servers)
        finally:
            for server in servers.values():
                server.stop()

    def median(name: str) -> dict:
        runs = sorted(samples[name], key=lambda r: r["rps"])
        middle = runs[len(runs) // 2]
        return {**middle, "rounds": [r["rps"] for r in samples[name]]}

    for name in samples:
        results[name] = median(name)
    print("medians:")
    for name in sorted(samples):
        r = results[name]
        print(f"  tribune {name:32} {r['rps']:8.0f} req/s  p50 {r['p50']:>8}  errors {r['errors']}")

    if not args.skip_isso:
        isso = run_isso(seconds)
        results["isso"] = isso
        count = isso["count"]["rps"]
        print(f"  isso {'count(25)':35} {count:8.0f} req/s  p50 {isso['count']['p50']:>8}")
        for cache in ("on", "off"):
            ours = results[f"small_cache_{cache}_fixed25"]["rps"]
            results[f"ratio_vs_isso_cache_{cache}"] = round(ours / count, 2)
            print(f"tribune tallies(25) / isso count(25), cache {cache}: {ours / count:.2f}x")
    for cache in ("on", "off"):
        for kind in ("random25", "fixed25"):
            small = results[f"small_cache_{cache}_{kind}"]["rps"]
            large = results[f"large_cache_{cache}_{kind}"]["rps"]
            results[f"slowdown_large_cache_{cache}_{kind}"] = round(small / large, 3)
            print(f"large vs small slowdown, cache {cache}, {kind}: {small / large:.3f}x")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "tallies.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
