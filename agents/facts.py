"""What the agents are told about the device: its name, peaks and size, from the verifier's
environment capture and the roofline table (the same figures the E18 check uses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kernelwright.backends.environment import capture_environment
from kernelwright.backends.roofline import Ceiling, ceiling_for


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    backend: str
    ceiling: Ceiling | None = None
    cores: int | None = None
    memory_mib: int | None = None
    compute_capability: str | None = None

    def text(self) -> str:
        lines = [f"- {self.name} (backend {self.backend})"]
        if self.ceiling is not None:
            c = self.ceiling
            lines.append(
                f"- peak memory bandwidth {c.bandwidth_bytes_s / 1e12:.2f} TB/s; peak FP32 "
                f"{c.fp32_flops / 1e12:.1f} TFLOP/s; peak FP16/BF16 tensor {c.half_flops / 1e12:.0f} "
                "TFLOP/s (dense)"
            )
            if c.compute_units:
                lines.append(f"- {c.compute_units} SMs (or CUs)")
        if self.compute_capability:
            lines.append(f"- compute capability {self.compute_capability}")
        if self.cores:
            lines.append(f"- {self.cores} usable CPU cores")
        if self.memory_mib:
            lines.append(f"- {self.memory_mib} MiB of memory")
        if self.ceiling is None:
            lines.append("- no datasheet peaks are known for this device")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "peak_bandwidth_bytes_s": self.ceiling.bandwidth_bytes_s if self.ceiling else None,
            "peak_fp32_flops": self.ceiling.fp32_flops if self.ceiling else None,
            "peak_half_flops": self.ceiling.half_flops if self.ceiling else None,
            "compute_units": self.ceiling.compute_units if self.ceiling else None,
            "cores": self.cores,
            "memory_mib": self.memory_mib,
            "compute_capability": self.compute_capability,
        }


def device_facts(backend: str, environment: dict[str, Any] | None = None) -> DeviceFacts:
    """The facts of the device ``backend`` runs on here (or of a captured ``environment``)."""
    env = environment if environment is not None else capture_environment(backend)
    gpu: dict[str, Any] | None = env.get("gpu") if isinstance(env.get("gpu"), dict) else None
    cpu: dict[str, Any] = env["cpu"] if isinstance(env.get("cpu"), dict) else {}
    if gpu:
        name = str(gpu.get("name") or env.get("device") or "unknown GPU")
        return DeviceFacts(
            name=name,
            backend=backend,
            ceiling=ceiling_for(name),
            memory_mib=gpu.get("memory_mib"),
            compute_capability=gpu.get("compute_capability"),
        )
    name = str(cpu.get("model") or env.get("device") or "unknown CPU")
    return DeviceFacts(
        name=f"CPU {name}" if backend == "cpu" else f"CPU {name} (interpreted)",
        backend=backend,
        ceiling=ceiling_for(name),
        cores=cpu.get("usable_cores") or cpu.get("cores"),
        memory_mib=cpu.get("memory_mib"),
    )


def facts_from_record(data: dict[str, Any], backend: str) -> DeviceFacts | None:
    """Facts as a run recorded them (``to_json``), checked field by field; None when malformed.
    The peaks come from the roofline table by name, as they did when recorded."""
    name = data.get("name")
    if not isinstance(name, str) or not name or len(name) > 300:
        return None

    def count(key: str) -> int | None:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    gpu_name = name if not name.startswith("CPU ") else name.removeprefix("CPU ")
    return DeviceFacts(
        name=name,
        backend=backend,
        ceiling=ceiling_for(gpu_name),
        cores=count("cores"),
        memory_mib=count("memory_mib"),
        compute_capability=data["compute_capability"]
        if isinstance(data.get("compute_capability"), str) and len(data["compute_capability"]) < 10
        else None,
    )
