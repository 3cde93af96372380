"""The synthetic example data is seeded, shaped like its originals, and learnable."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from hopsfs_tools import datasets


def test_census_csv_reads_back_like_uci_adult():
    raw = datasets.census_csv(2000, seed=3)
    assert raw == datasets.census_csv(2000, seed=3)
    assert b"?" in raw and not raw.startswith(b"age")
    frame = pd.read_csv(
        io.BytesIO(raw),
        names=datasets.CENSUS_COLUMNS,
        sep=r"\s*,\s*",
        engine="python",
        na_values="?",
    )
    assert frame.shape == (2000, 15)
    assert 0 < frame["workclass"].isna().mean() < 0.05
    share = (frame["income"] == ">50K").mean()
    assert 0.15 < share < 0.4
    # the label follows education, as in the real table
    by_years = frame.groupby(frame["education_num"] >= 13)["income"].apply(
        lambda s: (s == ">50K").mean()
    )
    assert by_years[True] > by_years[False] + 0.2


def test_digits_are_seeded_images_whose_label_is_recoverable():
    images, labels = datasets.digits(500, seed=1)
    assert images.shape == (500, 28, 28) and images.dtype == np.uint8
    assert set(labels.tolist()) == set(range(10))
    again, _ = datasets.digits(500, seed=1)
    assert np.array_equal(images, again)
    # nearest class mean on half the data classifies the other half far above chance (10%)
    x = images.reshape(500, -1).astype(np.float32)
    means = np.stack([x[:250][labels[:250] == d].mean(0) for d in range(10)])
    predicted = np.argmin(((x[250:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (predicted == labels[250:]).mean() > 0.25
