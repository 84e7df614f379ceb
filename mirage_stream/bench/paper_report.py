"""The paper bench's report: ``index.html`` with the tables (ours beside the paper's) and plots,
made from the bench's JSON alone (``paper.json`` in the same folder), so ``mirage-stream report
DIR`` can make it again without running anything."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from mirage_stream.errors import InputError

RESULT_FILE = "paper.json"


def write_report(result: dict[str, Any], folder: Path) -> Path:
    """Save the JSON and make the report from it; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULT_FILE).write_text(json.dumps(result, indent=1))
    return render_report(folder)


def render_report(folder: Path) -> Path:
    """``index.html`` and its plots from ``folder/paper.json``."""
    path = folder / RESULT_FILE
    try:
        result = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{path} does not exist: run `bench paper --report {folder}` first"
        ) from None
    except ValueError as error:
        raise InputError(f"{path} is not JSON ({error})") from None
    plots = [
        _plot_speedups(result, folder / "speedup.png"),
        _plot_quality(result, folder / "quality.png"),
        _plot_equal_air(result, folder / "equal_air.png"),
    ]
    page = folder / "index.html"
    page.write_text(_page(result, [p for p in plots if p is not None]))
    return page


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "-".join(_cell(v) for v in value)
    return "-" if value is None else html.escape(str(value))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _paper_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat = []
    for row in rows:
        flat.append(
            {"scheme": row["scheme"], "setting": row["setting"], "snr_db": row.get("snr_db")}
            | {f"ours {k}": v for k, v in row["ours"].items()}
            | {"paper": {k: v for k, v in (row["paper"] or {}).items() if k != "scheme"}}
        )
    return flat


def _page(result: dict[str, Any], plots: list[Path]) -> str:
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8><title>mirage_stream: the paper, "
        "reproduced</title><style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:"
        "1200px}table{border-collapse:collapse;margin:0.5rem 0 1.5rem}td,th{border:1px solid "
        "#ccc;padding:0.2rem 0.5rem;font-size:0.85rem}th{background:#eee}</style>",
        "<h1>The paper, reproduced</h1>",
        f"<p>{result['points']} points on executor {html.escape(result['executor'])} in "
        f"{result['wall_s']} s.</p>",
        "<h2>Conventions</h2>",
        _table(
            [{"what": k, "value": v} for k, v in result["conventions"].items()], ["what", "value"]
        ),
    ]
    names = {
        "1": "Table 1 (SNR -10 dB)",
        "2": "Table 2 (-10 dB)",
        "3": "Table 3 (-5 dB)",
        "4": "Table 4 (+10 dB)",
        "5": "Table 5 (caption consistency)",
    }
    for number, rows in result["tables"].items():
        flat = _paper_rows(rows)
        columns = list(dict.fromkeys(c for row in flat for c in row))
        parts += [f"<h2>{names.get(number, number)}</h2>", _table(flat, columns)]
    parts += [f'<h2>{p.stem.replace("_", " ")}</h2><img src="{p.name}" width=900>' for p in plots]
    parts += [
        "<h2>Crossover at equal time on air</h2>",
        _table(
            [
                {"clip": clip} | (found or {"snr_db": "none in the range"})
                for clip, found in result["crossover_snr_db"].items()
            ],
            ["clip", "snr_db", "scheme", "psnr_db", "mirage_psnr_db"],
        ),
        "<h2>Every scheme through the channel</h2>",
        _table(
            result["baselines"],
            [
                "clip",
                "scheme",
                "protection",
                "snr_db",
                "time_on_air_ms",
                "psnr_db",
                "ssim",
                "mse",
                "decoded_share",
                "bytes",
            ],
        ),
    ]
    return "\n".join(parts) + "</html>\n"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_speedups(result: dict[str, Any], path: Path) -> Path | None:
    """Data and latency speed-up of every Mirage-VQVAE K against SNR, ours and the paper's."""
    rows = [
        r for n in ("2", "3", "4") for r in result["tables"].get(n, []) if "VQVAE" in r["scheme"]
    ]
    if not rows:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for scheme in dict.fromkeys(r["scheme"] for r in rows):
        mine = sorted((r for r in rows if r["scheme"] == scheme), key=lambda r: r["snr_db"])
        snrs = [r["snr_db"] for r in mine]
        for axis, key in zip(axes, ("data_speedup", "latency_speedup"), strict=True):
            (line,) = axis.plot(snrs, [r["ours"][key] for r in mine], "o-", label=f"{scheme} ours")
            paper = [r["paper"][key] if r["paper"] else None for r in mine]
            if all(p is not None for p in paper):
                axis.plot(snrs, paper, "x--", color=line.get_color(), label=f"{scheme} paper")
    for axis, title in zip(axes, ("data speed-up", "latency speed-up"), strict=True):
        axis.set_xlabel("SNR (dB)")
        axis.set_yscale("log")
        axis.set_title(title)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plot_quality(result: dict[str, Any], path: Path) -> Path | None:
    """PSNR against SNR for every scheme, one panel per clip."""
    rows = [r for r in result["baselines"] if r["psnr_db"] is not None]
    clips = sorted({r["clip"] for r in rows})
    if not clips:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(clips), figsize=(6 * len(clips) + 2, 4.2), squeeze=False)
    for axis, clip in zip(axes[0], clips, strict=True):
        axis.set_prop_cycle(color=plt.cm.tab20.colors)
        for label in sorted({(r["scheme"], r["protection"]) for r in rows if r["clip"] == clip}):
            mine = sorted(
                (r for r in rows if r["clip"] == clip and (r["scheme"], r["protection"]) == label),
                key=lambda r: r["snr_db"],
            )
            style = "o-" if label[0] == "mirage-vq" else ".-"
            axis.plot(
                [r["snr_db"] for r in mine],
                [r["psnr_db"] for r in mine],
                style,
                label=" ".join(label),
            )
        axis.set_title(clip)
        axis.set_xlabel("SNR (dB)")
        axis.set_ylabel("PSNR against the source (dB)")
    axes[0][-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plot_equal_air(result: dict[str, Any], path: Path) -> Path | None:
    """Time on air against PSNR: Mirage beside every conventional scheme, at each SNR."""
    rows = [r for r in result["baselines"] if r["psnr_db"] is not None and r["scheme"] != "raw"]
    if not rows:
        return None
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(9, 4.5))
    axis.set_prop_cycle(color=plt.cm.tab20.colors)
    for label in sorted({(r["scheme"], r["protection"]) for r in rows}):
        mine = [r for r in rows if (r["scheme"], r["protection"]) == label]
        axis.scatter(
            [r["time_on_air_ms"] for r in mine],
            [r["psnr_db"] for r in mine],
            label=" ".join(label),
            marker="*" if label[0] == "mirage-vq" else "o",
            s=40,
        )
    axis.set_xscale("log")
    axis.set_xlabel("time on air per 2 s segment (ms)")
    axis.set_ylabel("PSNR (dB)")
    axis.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
