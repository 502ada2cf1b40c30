"""Print the NPY_DISABLE_CPU_FEATURES value that switches off NumPy's AVX-512 kernels.

NumPy reads that variable at import. Its names for the AVX-512 targets it dispatches to
differ between versions (AVX512F, AVX512_SKX, ... before 2.3; X86_V4, AVX512_ICL, ...
after), so they are read from NumPy itself. Prints nothing, with the reason on standard
error, where there is nothing to switch off or it cannot be switched off.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _numpy_features(extra_env: dict[str, str]) -> tuple[list[str], list[str]]:
    """(the dispatch targets NumPy was built with, those it uses on this CPU) in a fresh process."""
    code = (
        "import numpy as np\n"
        "try:\n"
        "    from numpy._core import _multiarray_umath as m\n"
        "except ImportError:\n"
        "    from numpy.core import _multiarray_umath as m\n"
        "print(' '.join(m.__cpu_dispatch__))\n"
        "print(' '.join(k for k, v in m.__cpu_features__.items() if v))\n"
    )
    env = {**os.environ, **extra_env}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    dispatch, enabled = out.stdout.splitlines()
    return dispatch.split(), enabled.split()


def main() -> int:
    dispatch, enabled = _numpy_features({})
    targets = [name for name in dispatch if "AVX512" in name or name == "X86_V4"]
    used = [name for name in targets if name in enabled]
    if not used:
        print(f"NumPy uses no AVX-512 kernels on this CPU (dispatch targets: {' '.join(dispatch)})", file=sys.stderr)
        return 0
    value = " ".join(targets)
    _, still = _numpy_features({"NPY_DISABLE_CPU_FEATURES": value})
    if any(name in still for name in targets):
        print(f"NumPy cannot switch off its AVX-512 kernels here ({value} stays enabled)", file=sys.stderr)
        return 0
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
