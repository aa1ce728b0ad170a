"""`plots.Chart`: lines stay inside the plotting area, dashed lines have gaps."""

import numpy as np
import pytest
from PIL import Image

from keras_zoo.train.plots import Chart, canvas, save_png

RED = (214, 39, 40)


@pytest.mark.no_keras_state
def test_lines_are_cut_at_the_range_and_dashes_leave_gaps(tmp_path):
    image, draw = canvas((200, 120))
    chart = Chart(draw, (20, 20, 180, 100), x_range=(0, 4), y_range=(0, 1))
    # Up through the top edge, out of range, back in: two pieces inside the area.
    chart.line([(0, 0.5), (1, 3.0), (2, 3.0), (3, 0.5)], RED, width=1)
    chart.line([(0, 0.2), (4, 0.2)], RED, width=1, dashed=True)
    save_png(image, tmp_path / "chart.png")
    pixels = np.asarray(Image.open(tmp_path / "chart.png").convert("RGB"))
    red = np.all(pixels == RED, axis=-1)
    rows, cols = np.nonzero(red)
    assert rows.min() >= 20 and rows.max() <= 100  # nothing above or below the area
    # The first line leaves the range at x = 0.2 and comes back at x = 2.8 (pixels 28 and
    # 132); above the dashed line (row 84) nothing is drawn between them.
    assert red[:80, 20:28].any() and red[:80, 133:160].any()
    assert not red[:80, 30:130].any()
    dashed_row = red[int(round(chart.xy(0, 0.2)[1]))]
    drawn = dashed_row[20:181].sum()
    # Dashes of 6 pixels on, 4 off along 160 pixels: about 60% drawn.
    assert 0.5 * 161 < drawn < 0.7 * 161
