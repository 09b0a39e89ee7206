"""The power curve of a design as a PNG: power per total sample size with its Monte-Carlo 95 %
interval, the type I error under no MSC effect, alpha and the 80 %/90 % lines."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from celltrial.simulate.power import POWER_TARGETS, PowerResult

DPI = 150


def power_figure(result: PowerResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    n = result.sizes
    ax.fill_between(n, result.power_low, result.power_high, color="0.85", lw=0)
    ax.plot(n, result.power, "o-", color="black", ms=3, label="power (MSC effect on)")
    ax.fill_between(n, result.type1_low, result.type1_high, color="#c6dbef", lw=0)
    ax.plot(n, result.type1, "s--", color="#2171b5", ms=3, label="type I error (MSC effect off)")
    ax.axhline(result.alpha, color="#2171b5", lw=0.6, ls=":")
    for target in POWER_TARGETS:
        ax.axhline(target, color="0.5", lw=0.6, ls=":")
    ax.set(
        xlabel="total sample size (randomized)",
        ylabel="probability of rejecting H0",
        ylim=(0, 1),
        title=f"{result.design}: {result.endpoint}, alpha {result.alpha:g}, {result.sims} trials/n",
    )
    ax.title.set_fontsize(8)
    ax.legend(frameon=False, fontsize=7, loc="center right")
    fig.text(0.01, 0.01, "bands: Monte-Carlo 95 % CI (Clopper-Pearson)", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
