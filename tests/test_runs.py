import subprocess
import sys

import pytest

from benchmarks.runs import run_measured

# Allocate N MB, touch every page, and live long enough to be measured.
ALLOCATE = ("import sys, time; block = bytearray(int(sys.argv[1]) * 2**20); "
            "block[::4096] = b'x' * len(block[::4096]); "
            "time.sleep(0.5)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-child peaks are read from /proc")
def test_each_child_reports_its_own_peak_memory():
    held = bytearray(400 * 2**20)  # the parent's memory must not count towards the children's peaks
    held[::4096] = b"x" * len(held[::4096])
    big = run_measured([sys.executable, "-c", ALLOCATE, "300"])
    small = run_measured([sys.executable, "-c", ALLOCATE, "20"])
    assert 300 < big.peak_rss_mb < 380
    assert 20 < small.peak_rss_mb < 100
    assert big.seconds >= 0.5 and big.argv[-1] == "300"


def test_a_failing_child_raises():
    with pytest.raises(subprocess.CalledProcessError) as err:
        run_measured([sys.executable, "-c", "raise SystemExit(3)"])
    assert err.value.returncode == 3
