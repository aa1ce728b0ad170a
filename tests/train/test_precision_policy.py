"""--mixed-precision follows the CPU's vector extensions (faked /proc/cpuinfo files)."""

import pytest
import tensorflow as tf

from keras_zoo.train import cpu, strategies

pytestmark = pytest.mark.no_keras_state

# First lines of real /proc/cpuinfo entries (flags trimmed to what matters and a few others).
CPUS = {
    "epyc_avx2": ("AMD EPYC 7B13 64-Core Processor",
                  "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni"),
    "epyc_zen4": ("AMD EPYC 9B14 96-Core Processor",
                  "fma avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 "
                  "avx512_vnni"),
    "sapphire_rapids": ("Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
                        "fma avx avx2 avx512f avx512bw avx512_vnni amx_bf16 amx_tile amx_int8"),
    "skylake": ("Intel(R) Xeon(R) CPU @ 2.00GHz", "fma avx avx2 avx512f avx512bw avx512vl"),
}


@pytest.fixture
def fake_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [] if kind == "GPU" else ["CPU:0"])

    def use(name):
        model, flags = CPUS[name]
        path = tmp_path / f"{name}.cpuinfo"
        entry = f"processor\t: 0\nvendor_id\t: x\nmodel name\t: {model}\nflags\t\t: {flags}\n\n"
        path.write_text(entry + entry.replace("processor\t: 0", "processor\t: 1"))
        monkeypatch.setattr(cpu, "CPUINFO", str(path))
    return use


def test_cpu_info_reads_model_and_vector_extensions(fake_cpu):
    fake_cpu("sapphire_rapids")
    assert cpu.cpu_info() == {"model": CPUS["sapphire_rapids"][0],
                              "vector_extensions": ["avx2", "avx512f", "amx_tile", "amx_bf16",
                                                    "amx_int8"]}
    fake_cpu("epyc_avx2")
    assert cpu.cpu_info()["vector_extensions"] == ["avx2"]


@pytest.mark.parametrize("name,policy", [("epyc_avx2", "float32"), ("skylake", "float32"),
                                         ("epyc_zen4", "mixed_bfloat16"),
                                         ("sapphire_rapids", "mixed_bfloat16")])
def test_bfloat16_only_where_the_cpu_multiplies_it(fake_cpu, capsys, name, policy):
    fake_cpu(name)
    assert strategies.precision_policy(True) == policy
    notice = capsys.readouterr().err
    if policy == "float32":
        assert notice.count("\n") == 1 and "no AVX512_BF16 or AMX" in notice
        assert CPUS[name][0] in notice and "training in float32" in notice
    else:
        assert notice == ""
    assert strategies.precision_policy(False) == "float32"
    assert capsys.readouterr().err == ""  # nothing asked, nothing to say


def test_gpu_gets_mixed_float16(fake_cpu, monkeypatch):
    fake_cpu("epyc_avx2")
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["GPU:0"] if kind == "GPU" else ["CPU:0"])
    assert strategies.precision_choice(True)[0] == "mixed_float16"


def test_missing_cpuinfo_means_no_fast_bfloat16(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu, "CPUINFO", str(tmp_path / "absent"))
    info = cpu.cpu_info()
    assert info["vector_extensions"] == [] and info["model"]
    assert not cpu.has_fast_bfloat16(info)
