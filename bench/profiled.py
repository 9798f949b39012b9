"""Run a module under cProfile, timing the main thread's CPU (not wall time, so the event
loop's waits in ``epoll`` cost nothing), only while switched on by a signal:

    python -m bench.profiled OUT.prof -m bot run

SIGUSR1 switches profiling on, SIGUSR2 off; the profile is written when the module returns
(both bots return on SIGTERM). Coroutine resumptions count as calls in cProfile.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from types import FrameType


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: python -m bench.profiled OUT.prof -m MODULE [ARGS...]")
    out, module, args = sys.argv[1], sys.argv[3], sys.argv[4:]
    profiler = cProfile.Profile(time.thread_time)

    def switch_on(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def switch_off(signum: int, frame: FrameType | None) -> None:
        profiler.disable()

    signal.signal(signal.SIGUSR1, switch_on)
    signal.signal(signal.SIGUSR2, switch_off)
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
