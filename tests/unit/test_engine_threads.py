"""Engine jobs run one at a time, each on a thread that ends with it, so no OpenMP team outlives its job."""

import os
import threading

import pytest
import torch

from genserve.engines.worker import FreshThreadExecutor


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def matmul() -> str:
    a = torch.randn(512, 512)
    for _ in range(3):
        a = a @ a / 512
    return threading.current_thread().name


def test_a_torch_job_leaves_no_threads_behind():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a team of two: one OpenMP worker besides the calling thread
    executor = FreshThreadExecutor("engine:test")
    try:
        executor.submit(lambda: None).result()  # the dispatcher thread itself
        before = os_threads()
        for _ in range(3):
            assert executor.submit(matmul).result() == "engine:test"
        assert os_threads() == before
    finally:
        executor.shutdown()
        torch.set_num_threads(threads)


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
