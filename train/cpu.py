"""The CPU a run (or a benchmark, or the test session) runs on: model name and the
vector extensions that decide TensorFlow's speed on it.

CPUs under CI and on development machines vary (Intel AVX-512 with AMX, AMD
EPYC with AVX-512/BF16 or AVX2 only): benchmark figures, float rounding of
oneDNN kernels and the right mixed-precision policy all depend on them, so
`bench/` prints `cpu_info()` with every result and `strategies.precision_policy`
reads it.
"""

import platform

CPUINFO = "/proc/cpuinfo"  # Linux; elsewhere the extensions are unknown (an empty list)

# The extensions that change TensorFlow's CPU kernels, as /proc/cpuinfo names them:
# 256-bit AVX2 (+FMA), 512-bit AVX-512 foundation, AVX-512 bfloat16 dot products,
# and the AMX tile units (Intel Sapphire Rapids and later).
VECTOR_EXTENSIONS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")
# bfloat16 pays only where the CPU multiplies it natively; elsewhere it is emulated
# (on an AVX2 EPYC a ResNet-50 training step took 9x longer in bf16 than in float32).
BFLOAT16_EXTENSIONS = ("avx512_bf16", "amx_bf16")


def _read_cpuinfo(path):
    """`(model name, set of flags)` of the first processor listed in `path`."""
    model, flags = None, set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model is None:
                model = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
            if model is not None and flags:
                break
    return model, flags


def cpu_info():
    """The CPU model and which of `VECTOR_EXTENSIONS` it has.

    Returns:
        ``{"model": str, "vector_extensions": [str, ...]}``, the extensions in
        `VECTOR_EXTENSIONS` order (an empty list where /proc/cpuinfo is missing).
    """
    try:
        model, flags = _read_cpuinfo(CPUINFO)
    except OSError:
        model, flags = None, set()
    model = model or platform.processor() or platform.machine() or "unknown"
    return {"model": model, "vector_extensions": [f for f in VECTOR_EXTENSIONS if f in flags]}


def has_fast_bfloat16(info=None):
    """True when the CPU (`cpu_info()` unless `info` is given) has AVX512_BF16 or AMX-BF16."""
    info = cpu_info() if info is None else info
    return any(f in info["vector_extensions"] for f in BFLOAT16_EXTENSIONS)


def describe(info=None):
    """One line: ``"AMD EPYC 7B13 (avx2)"``."""
    info = cpu_info() if info is None else info
    return f"{info['model']} ({', '.join(info['vector_extensions']) or 'no AVX2'})"
