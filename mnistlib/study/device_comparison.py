"""Does the device change the verdict? The same configurations trained on the CPU and on a GPU, compared.

The CPU study (``results/full``) and the GPU's own runs of the same recipes (``results/gpu``, never mixed into
the CPU study) are treated as independent samples of each configuration's test accuracy: the seeds are
numbered alike, but the batch order (each device's own generator) and the arithmetic differ. For each configuration in both: the two means, their difference with its 95% Welch interval, and
the two accuracy verdicts side by side (the verdict's kind, before its figures: "reproduced", "not
reproduced", ...).
"""
from __future__ import annotations

import statistics
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
        """Five columns, so that the table fits the book's page: the verdicts in one."""
        interval = "" if self.low is None else f" ({self.low:+.2f} to {self.high:+.2f})"
        cpu, gpu = verdict_kind(self.cpu_verdict), verdict_kind(self.gpu_verdict)
        return {"configuration": self.model + ("" if self.dataset == "mnist" else f", {self.dataset}"),
                "CPU test %": self.cpu, "GPU test %": self.gpu,
                "GPU − CPU, points (95% Welch interval)": f"{self.difference:+.2f}{interval}",
                "same verdict": f"yes: {cpu}" if self.same_verdict else f"no: CPU {cpu}, GPU {gpu}"}


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


@dataclass(frozen=True)
class DeviceSeeds:
    """One kind of device's seeds of a configuration: ``kind`` ("CPU", "GPU"), the devices' ``name`` ("AMD EPYC, 2
    threads") and each seed's test accuracy (percent), by seed."""

    kind: str
    name: str
    accuracies: tuple[float, ...]

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.name})"

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)


@dataclass(frozen=True)
class MixedDevices:
    """A configuration of one study whose seeds ran on more than one kind of device (SpinalNet's in the CPU
    study: two seeds on a lent GPU before the CPU study reached it, then the CPU's): each device's test
    accuracies, and whether the devices agree within the seed spread. The rule: the device means differ by at
    most twice the seeds' standard deviation within a device (pooled), the spread two seeds of one device show."""

    dataset: str
    model: str  # the configuration's label
    devices: tuple[DeviceSeeds, ...]  # the CPU first

    @property
    def spread(self) -> float | None:
        """The pooled within-device sample standard deviation (points): each device's variance weighted by its
        degrees of freedom; ``None`` when no device has two seeds."""
        groups = [d.accuracies for d in self.devices if len(d.accuracies) > 1]
        if not groups:
            return None
        pooled = sum((len(a) - 1) * statistics.variance(a) for a in groups) / sum(len(a) - 1 for a in groups)
        return pooled ** 0.5

    @property
    def difference(self) -> float:
        """The last device's mean minus the first's, in points."""
        return self.devices[-1].mean - self.devices[0].mean

    @property
    def agree(self) -> bool | None:
        return None if self.spread is None else abs(self.difference) <= 2 * self.spread

    def sentence(self) -> str:
        seeds = "; ".join(f"{d.label}: {', '.join(f'{x:.2f}' for x in d.accuracies)} "
                          f"({len(d.accuracies)} seed{'s' * (len(d.accuracies) > 1)})" for d in self.devices)
        first, last = self.devices[0], self.devices[-1]
        text = f"`{self.model}`: {seeds}. The {last.kind} mean is {self.difference:+.2f} points from the {first.kind}'s"
        if self.agree is None:
            return text + "; no device has two seeds yet, so there is no spread to judge it against."
        bound = f"twice the seeds' spread within a device ({2 * self.spread:.2f} points)"
        return text + (f", within {bound}: the devices agree." if self.agree else
                       f", more than {bound}: the devices disagree by more than seeds do.")


def mixed_devices(records: list) -> list[MixedDevices]:
    """The configurations of ``records`` (one study's :class:`RunRecord` list) whose seeds ran on more than one
    kind of device, the CPU first."""
    from collections import defaultdict

    from .configuration import Configuration

    groups: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in sorted(records, key=lambda r: (r.device != "cpu", r.device, r.seed)):
        groups[(r.dataset, Configuration(r.model, r.recipe).label)][r.device].append(r)
    return [MixedDevices(dataset, label, tuple(
                DeviceSeeds(_KINDS.get(device, device), _names(runs), tuple(100 * r.test_accuracy for r in runs))
                for device, runs in by_device.items()))
            for (dataset, label), by_device in groups.items() if len(by_device) > 1]


_KINDS = {"cpu": "CPU", "cuda": "GPU"}


def _names(runs: list) -> str:
    """The devices' names, the CPU's without its "cpu (...)" wrapper: "Intel(R) Xeon(R) Processor, 2 threads"."""
    names = (r.device_name[len("cpu ("):-1] if r.device_name.startswith("cpu (") else r.device_name for r in runs)
    return " / ".join(dict.fromkeys(names))
