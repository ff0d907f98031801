"""The charts of the history and the dashboard: the score trend and the per-rep dimension heatmap.

Charts are small server-drawn SVGs: they render identically in any browser, need no network, and a
test can read their numbers without one.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.team.exports import label
from trainer.web.views import esc, table_html

PALETTE = ["#4f46e5", "#0891b2", "#d97706", "#db2777", "#059669", "#7c3aed", "#dc2626", "#475569"]


def trend_svg(
    series: dict[str, Sequence[tuple[str, float]]], pass_mark: float | None = None, title: str = ""
) -> str:
    """Score over attempts, one line per series; the dashed line is the pass mark."""
    width, height, left, right, top, bottom = 640, 230, 40, 110, 16, 28
    longest = max((len(points) for points in series.values()), default=0)
    if longest == 0:
        return "<div class='card empty'>Scores will be plotted here after the first scored session.</div>"
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (longest - 1) if longest > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / 100)

    grid = "".join(
        f"<line x1='{left}' x2='{left + plot_w}' y1='{y(v):.1f}' y2='{y(v):.1f}' class='grid'/>"
        f"<text x='{left - 6}' y='{y(v) + 4:.1f}' class='axis' text-anchor='end'>{v}</text>"
        for v in (0, 25, 50, 75, 100)
    )
    if pass_mark is not None:
        py = y(pass_mark)
        grid += (
            f"<line x1='{left}' x2='{left + plot_w}' y1='{py:.1f}' y2='{py:.1f}' class='passline'/>"
            f"<text x='{left + plot_w + 4}' y='{py + 4:.1f}' class='axis'>pass {pass_mark:.0f}</text>"
        )
    lines = []
    for n, (name, points) in enumerate(series.items()):
        if not points:
            continue
        color = PALETTE[n % len(PALETTE)]
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        dots = "".join(
            f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3.5' fill='{color}'>"
            f"<title>{esc(name)} · {esc(when[:10])}: {v:.0f}</title></circle>"
            for i, (when, v) in enumerate(points)
        )
        lines.append(f"<polyline points='{coords}' fill='none' stroke='{color}' stroke-width='2.5'/>{dots}")
        if len(series) > 1 or name:
            ly = top + 14 + 18 * n
            lines.append(
                f"<rect x='{width - right + 38}' y='{ly - 9}' width='10' height='10' rx='2' fill='{color}'/>"
                f"<text x='{width - right + 52}' y='{ly}' class='legend'>{esc(name[:14])}</text>"
            )
    caption = f"<div class='chart-title'>{esc(title)}</div>" if title else ""
    return (
        f"<div class='card chart'>{caption}<svg viewBox='0 0 {width} {height}' class='trend' role='img' "
        f"aria-label='{esc(title or 'score trend')}'>{grid}{''.join(lines)}"
        f"<text x='{left}' y='{height - 6}' class='axis'>attempts →</text></svg></div>"
    )


def heatmap_html(dimensions: dict[str, dict[str, float]], dims: Sequence[str]) -> str:
    """Mean score per rep and dimension; each rep's weakest dimension is outlined."""
    if not any(dimensions.values()):
        return "<div class='card empty'>The heatmap fills in once the team has scored sessions.</div>"
    headers = ["Rep", *(esc(label(d)) for d in dims), "Weakest"]
    body = []
    for rep, values in dimensions.items():
        if not values:
            body.append(
                f"<tr><td>{esc(rep)}</td>" + "<td class='hm-none'>–</td>" * len(dims) + "<td>–</td></tr>"
            )
            continue
        weakest = min(values, key=lambda d: values[d])
        cells = []
        for d in dims:
            v = values.get(d)
            if v is None:
                cells.append("<td class='hm-none'>–</td>")
                continue
            hue = round(v * 1.2)  # 0 red .. 120 green
            cls = " weakest" if d == weakest else ""
            cells.append(f"<td class='hm{cls}' style='background:hsl({hue} 70% 88%)'>{v:.0f}</td>")
        body.append(f"<tr><td>{esc(rep)}</td>{''.join(cells)}<td><b>{esc(label(weakest))}</b></td></tr>")
    return table_html(headers, body, "table heatmap")
