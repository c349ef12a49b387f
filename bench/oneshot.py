#!/usr/bin/env python3
"""`boxmon sample` as a whole process: the cost a timer-driven install pays each interval.

Runs `boxmon sample` --runs times on the built-in defaults (1 s interval, so runs --gap seconds
apart each store a tick) against one state directory that lives for the whole series, and
prints wall time and CPU time (user + system of the child, from wait4's rusage) per run:
median, min, max, and the median's split into user and system (the total is exact; the kernel
apportions it between the two by tick samples, so for a process of a few ms the split is rough). The first --warmup runs
(creating the database, first rates) are left out. With --env NAME=VALUE (repeatable) the
runs see extra environment; --config-extra adds TOML to the configuration.

To compare builds or settings, give --versus (another executable) or --versus-config (other
extra TOML): the two variants then run alternately, each with its own state directory, so a
machine's drift during the series weighs on both alike (on a small VM the spread between
series of identical runs is a millisecond or more; compare interleaved medians only).

  bench/oneshot.py --boxmon build/ci/cli/boxmon --runs 40
  bench/oneshot.py --boxmon new/boxmon --versus old/boxmon --runs 40

With --check WALL_MS,CPU_MS it exits 1 when a median of the first variant is above.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(cmd, env):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"oneshot: `{' '.join(cmd)}` exited {proc.returncode}:\n{err}")
    # (ru_maxrss is left out: it counts the forked parent's pages from before the exec.)
    return wall * 1e3, usage.ru_utime * 1e3, usage.ru_stime * 1e3


def summary(name, values):
    return (f"{name:<10} median {statistics.median(values):6.2f} ms   "
            f"min {min(values):6.2f}   max {max(values):6.2f}")


class Variant:
    def __init__(self, label, boxmon, extra, state):
        self.label = label
        config = os.path.join(state, "boxmon.toml")
        with open(config, "w") as f:
            f.write('[general]\ninterval = "1s"\n' + extra + "\n")
        self.cmd = [boxmon, "--config", config, "--state-dir", state, "sample"]
        self.walls, self.cpus, self.users, self.systems = [], [], [], []

    def record(self, wall, user, system):
        self.walls.append(wall)
        self.cpus.append(user + system)
        self.users.append(user)
        self.systems.append(system)

    def report(self):
        print(f"[{self.label}] {' '.join(self.cmd[:1])}")
        print(summary("wall", self.walls))
        print(summary("cpu", self.cpus))
        print(f"{'':<10} user {statistics.median(self.users):.2f} + system "
              f"{statistics.median(self.systems):.2f} ms (medians)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--boxmon", required=True)
    ap.add_argument("--versus", help="a second executable, run alternately with --boxmon")
    ap.add_argument("--config-extra", default="", help="TOML added to the configuration")
    ap.add_argument("--versus-config", help="TOML for a second variant of --boxmon")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--gap", type=float, default=1.05, help="seconds between runs")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the runs")
    ap.add_argument("--check", help="WALL_MS,CPU_MS: exit 1 when a median is above")
    args = ap.parse_args()

    env = dict(os.environ)
    for pair in args.env:
        name, _, value = pair.partition("=")
        env[name] = value
    with tempfile.TemporaryDirectory(prefix="boxmon-oneshot-") as state:
        os.makedirs(os.path.join(state, "a"))
        variants = [Variant("a", args.boxmon, args.config_extra, os.path.join(state, "a"))]
        if args.versus or args.versus_config is not None:
            os.makedirs(os.path.join(state, "b"))
            extra = args.versus_config if args.versus_config is not None else args.config_extra
            variants.append(Variant("b", args.versus or args.boxmon, extra, os.path.join(state, "b")))
        for i in range(args.warmup + args.runs):
            started = time.monotonic()
            for v in variants:
                result = run_once(v.cmd, env)
                if i >= args.warmup:
                    v.record(*result)
            time.sleep(max(0.0, args.gap - (time.monotonic() - started)))

    print(f"boxmon sample, {args.runs} runs {args.gap} s apart (after {args.warmup} warm-up runs)"
          + (", variants alternating" if len(variants) > 1 else ""))
    for v in variants:
        v.report()
    if len(variants) > 1:
        a, b = variants
        print(f"cpu median a - b: {statistics.median(a.cpus) - statistics.median(b.cpus):+.2f} ms; "
              f"wall: {statistics.median(a.walls) - statistics.median(b.walls):+.2f} ms")
    if args.check:
        wall_limit, cpu_limit = (float(x) for x in args.check.split(","))
        a = variants[0]
        failed = []
        if statistics.median(a.walls) > wall_limit:
            failed.append(f"wall median {statistics.median(a.walls):.2f} ms > {wall_limit} ms")
        if statistics.median(a.cpus) > cpu_limit:
            failed.append(f"cpu median {statistics.median(a.cpus):.2f} ms > {cpu_limit} ms")
        if failed:
            print("oneshot: " + "; ".join(failed))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
