"""What a Dask worker measures of its own memory, in a module of its own.

``client.run`` sends a function by reference: each worker imports the module that
defines it. Here that module imports nothing, so measuring a worker does not load the
test modules' imports (PyTorch, mpmath: about 180 MiB) into it.
"""

from __future__ import annotations


def reset_peak_memory() -> bool:
    """Reset the calling process's peak resident memory (Linux only; a fork inherits its parent's)."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        return False
    return True


def peak_memory() -> int:
    """The calling process's peak resident memory since the reset, in bytes (0 where unknown)."""
    try:
        with open("/proc/self/status") as file:
            line = next(line for line in file if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0
    return int(line.split()[1]) * 1024
