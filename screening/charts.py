"""Charts shared by the report and the app (PNG bytes, Dutch labels, fixed scales)."""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd


def place_standard_spider(summary: pd.DataFrame, group_col: str = "wijk_code", title: str = "",
                          scale_min: int = 1, scale_max: int = 7) -> bytes:
    """A spider (radar) chart of Place Standard medians, one line per group; PNG bytes.

    The radial scale is fixed (``scale_min``..``scale_max``) so charts of different wijken and
    evenings compare at a glance; a theme nobody scored is drawn as a gap, never as 0.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(summary["label"])) if len(summary) else []
    n = len(labels)
    fig = plt.figure(figsize=(6.4, 6.4))
    ax = fig.add_subplot(111, polar=True)
    if n:
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
        for g, sub in summary.groupby(group_col, sort=True):
            vals = sub.set_index("label").reindex(labels)["median"].to_numpy(dtype=float)
            a = np.r_[angles, angles[:1]]
            v = np.r_[vals, vals[:1]]
            rounds = int(sub["n"].max()) if "n" in sub else 0
            ax.plot(a, v, marker="o", linewidth=2, label=f"{g} ({rounds} deelnemers)")
            ax.fill(a, np.nan_to_num(v, nan=scale_min), alpha=0.08)
        ax.set_xticks(angles)
        ax.set_xticklabels(["\n".join(textwrap.wrap(lab, 14)) for lab in labels], fontsize=8)
        ax.legend(loc="upper right", bbox_to_anchor=(1.25, 1.12), fontsize=8)
    ax.set_ylim(scale_min - 0.5, scale_max)
    ax.set_yticks(range(scale_min, scale_max + 1))
    ax.set_yticklabels([str(i) for i in range(scale_min, scale_max + 1)], fontsize=7)
    if title:
        ax.set_title(title, pad=24)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
