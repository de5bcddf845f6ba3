"""Engine jobs run one at a time, each on a thread that ends with it, so no OpenMP team outlives its job."""

import subprocess
import sys
import threading

import pytest

from genserve.engines.worker import FreshThreadExecutor

# Run in a fresh interpreter: the test process has other tests' threads coming and going.
_LEFTOVERS = """
import os, threading, time, torch
from genserve.engines.worker import FreshThreadExecutor

def matmul():
    a = torch.randn(512, 512)
    for _ in range(3):
        a = a @ a / 512
    return threading.current_thread().name

torch.set_num_threads(2)  # a team of two: one OpenMP worker besides the calling thread
executor = FreshThreadExecutor("engine:test")
executor.submit(lambda: None).result()  # the dispatcher thread itself
before = len(os.listdir("/proc/self/task"))
names = {executor.submit(matmul).result() for _ in range(3)}
for _ in range(100):  # a finished team's workers exit a moment after the thread that owned it
    if len(os.listdir("/proc/self/task")) == before:
        break
    time.sleep(0.01)
print(names == {"engine:test"}, len(os.listdir("/proc/self/task")) - before)
"""


def test_a_torch_job_leaves_no_threads_behind():
    done = subprocess.run([sys.executable, "-c", _LEFTOVERS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "0"]


def test_jobs_run_in_order_one_at_a_time_and_errors_reach_the_caller():
    executor = FreshThreadExecutor("engine:test")
    running, seen = [], []
    lock = threading.Lock()

    def job(i: int) -> int:
        with lock:
            running.append(i)
            assert len(running) == 1
        seen.append(i)
        with lock:
            running.remove(i)
        return i * i

    futures = [executor.submit(job, i) for i in range(6)]
    assert [f.result() for f in futures] == [i * i for i in range(6)]
    assert seen == list(range(6))

    def fails() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        executor.submit(fails).result()
    executor.shutdown()
