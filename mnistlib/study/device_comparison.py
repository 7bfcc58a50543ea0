"""Does the device change the verdict? The same configurations trained on the CPU and on a GPU, compared.

The CPU study (``results/full``) and the GPU's own runs of the same recipes (``results/gpu``, never mixed into
the CPU study) are treated as independent samples of each configuration's test accuracy: the seeds are
numbered alike, but the batch order (each device's own generator) and the arithmetic differ. For each configuration in both: the two means, their difference with its 95% Welch interval, and
the two accuracy verdicts side by side (the verdict's kind, before its figures: "reproduced", "not
reproduced", ...).
"""
from __future__ import annotations

from dataclasses import dataclass

from .stats import welch_interval


@dataclass
class DeviceComparison:
    dataset: str
    model: str  # the configuration's label, e.g. "shao_cnn (improved)"
    cpu: str  # "98.94 ± 0.09 (n=5)"
    gpu: str
    difference: float  # GPU mean - CPU mean, points
    low: float | None  # its 95% Welch interval (None when a side has one seed)
    high: float | None
    cpu_verdict: str
    gpu_verdict: str

    @property
    def same_verdict(self) -> bool:
        return verdict_kind(self.cpu_verdict) == verdict_kind(self.gpu_verdict)

    def display(self) -> dict[str, str]:
        interval = "-" if self.low is None else f"{self.low:+.2f} to {self.high:+.2f}"
        return {"dataset": self.dataset, "configuration": self.model, "CPU test %": self.cpu, "GPU test %": self.gpu,
                "GPU − CPU (points)": f"{self.difference:+.2f}", "95% Welch interval": interval,
                "CPU verdict": verdict_kind(self.cpu_verdict), "GPU verdict": verdict_kind(self.gpu_verdict),
                "same verdict": "yes" if self.same_verdict else "no"}


def verdict_kind(verdict: str) -> str:
    """``"not reproduced: 98.88 (95% CI ...)"`` -> ``"not reproduced"``."""
    return verdict.split(":", 1)[0].strip()


def _figure(row) -> str:
    return f"{row.display()['measured test %']} (n={row.seeds})"


def compare_devices(cpu_rows: list, gpu_rows: list) -> list[DeviceComparison]:
    """One comparison per configuration present in both studies' summaries (:class:`StudyRow` lists)."""
    cpu = {(r.dataset, r.model): r for r in cpu_rows}
    out = []
    for g in gpu_rows:
        c = cpu.get((g.dataset, g.model))
        if c is None:
            continue
        interval = welch_interval((c.mean, c.std or 0.0, c.seeds), (g.mean, g.std or 0.0, g.seeds))
        difference, low, high = interval if interval else (g.mean - c.mean, None, None)
        out.append(DeviceComparison(g.dataset, g.model, _figure(c), _figure(g), difference, low, high,
                                    c.verdict, g.verdict))
    return out
