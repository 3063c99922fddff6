#!/usr/bin/env python3
"""Paired timing of whole processes, for machines without hyperfine.

    benches/paired.py RUNS NAME=COMMAND [NAME=COMMAND ...]

Runs the commands in turn, back to back, RUNS rounds (after 5 warm-up
rounds), so every command sees the same machine state. A command run right
after a heavy one (gh: its Go runtime still winding down on the other core)
was measured up to 1.5 ms slower, which a fixed order charges to one
command only: the order is shuffled every round (fixed seed). (A pause
between runs is no cure: on this VM an idle CPU made every short process
1-2 ms slower, as a cold single invocation is.) Reports each one's median
and best wall time and its median CPU (user + system, from wait4's
rusage), and every command's ratio to the last one. A command that exits
non-zero stops the run: timing a failure would be a lie. Commands are
split with shlex and exec'd directly (no shell), as `hyperfine -N` does.
"""

import os
import random
import shlex
import statistics
import sys
import time


def run_once(argv):
    devnull = os.open(os.devnull, os.O_RDWR)
    start = time.perf_counter()
    pid = os.posix_spawnp(
        argv[0],
        argv,
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0),
            (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
        ],
    )
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"paired.py: `{shlex.join(argv)}` exited with {code}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    commands = []
    for spec in sys.argv[2:]:
        name, sep, command = spec.partition("=")
        if not sep:
            sys.exit(f"paired.py: expected NAME=COMMAND, got {spec!r}")
        commands.append((name, shlex.split(command)))
    for _ in range(5):
        for _, argv in commands:
            run_once(argv)
    walls = {name: [] for name, _ in commands}
    cpus = {name: [] for name, _ in commands}
    order = list(commands)
    shuffle = random.Random(7).shuffle
    for _ in range(runs):
        shuffle(order)
        for name, argv in order:
            wall, cpu = run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    last = commands[-1][0]
    ref = statistics.median(walls[last])
    for name, _ in commands:
        med = statistics.median(walls[name])
        print(
            f"{name:28s} median {med * 1000:8.2f} ms  best {min(walls[name]) * 1000:8.2f} ms"
            f"  cpu {statistics.median(cpus[name]) * 1000:8.2f} ms  {last}/this = {ref / med:5.1f}x"
        )


if __name__ == "__main__":
    main()
