import struct

from benchmarks.plots import curve_panels, metric_bars


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def test_figures_are_written_with_one_panel_per_quantity(tmp_path):
    results = {"a": {"hr@1": 0.1, "hr@3": 0.2, "ndcg@3": 0.15, "ndcg@10": 0.3}, "b": {"hr@1": 0.2, "hr@3": 0.4,
                                                                                     "ndcg@3": 0.3, "ndcg@10": 0.5}}
    bars = metric_bars(results, tmp_path / "sub" / "bars.png", title="t")
    assert png_size(bars) == (9 * 120, 4 * 120)
    panels = {"loss": {"x": {1: 2.0, 2: 1.5}}, "ndcg": {"x": {"1": 0.1, "10": 0.2}}, "empty": {"y": {}}}
    curves = curve_panels(panels, tmp_path / "curves.png", xlabels={"ndcg": "epoch"})
    assert png_size(curves) == (3 * 5 * 120, 4 * 120)
