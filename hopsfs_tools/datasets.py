"""Synthetic, seeded example data for the demo, notebooks and tests: nothing is downloaded.

`census` mimics the UCI "adult" table (same 15 columns, `?` for missing values, an income
label that depends on the features with noise, so models have something to learn).
`digits` draws MNIST-like 28x28 grey images of the digits 0-9 from a 5x7 bitmap font with
random shift, scale, stroke and noise.
numpy (and pandas for `census`) are imported on first use: the base install has neither, and
the CLI imports this module through the demo.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CENSUS_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip

_WORKCLASS = [
    "Private",
    "Self-emp-not-inc",
    "Self-emp-inc",
    "Federal-gov",
    "Local-gov",
    "State-gov",
    "Without-pay",
]
_EDUCATION = [  # (name, years)
    ("Preschool", 1), ("1st-4th", 2), ("5th-6th", 3), ("7th-8th", 4), ("9th", 5),
    ("10th", 6), ("11th", 7), ("12th", 8), ("HS-grad", 9), ("Some-college", 10),
    ("Assoc-voc", 11), ("Assoc-acdm", 12), ("Bachelors", 13), ("Masters", 14),
    ("Prof-school", 15), ("Doctorate", 16),
]  # fmt: skip
_MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed"]
_OCCUPATION = [
    "Tech-support",
    "Craft-repair",
    "Other-service",
    "Sales",
    "Exec-managerial",
    "Prof-specialty",
    "Handlers-cleaners",
    "Machine-op-inspct",
    "Adm-clerical",
    "Farming-fishing",
    "Transport-moving",
    "Protective-serv",
]
_RELATIONSHIP = ["Husband", "Wife", "Own-child", "Not-in-family", "Unmarried"]
_RACE = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]
_COUNTRY = ["United-States", "Mexico", "Philippines", "Germany", "Canada", "India", "England"]


def census(rows: int, seed: int = 0) -> pd.DataFrame:
    """A pandas DataFrame shaped like UCI adult (`CENSUS_COLUMNS`), about 2% values missing."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(17, 90, rows)
    edu = rng.choice(len(_EDUCATION), rows, p=_weights(len(_EDUCATION), peak=8))
    years = np.array([_EDUCATION[i][1] for i in edu])
    hours = np.clip(rng.normal(40, 12, rows).round(), 1, 99).astype(int)
    married = rng.random(rows) < 0.47
    sex = np.where(rng.random(rows) < 0.67, "Male", "Female")
    gain = np.where(rng.random(rows) < 0.08, rng.integers(1000, 99999, rows), 0)
    loss = np.where(rng.random(rows) < 0.05, rng.integers(100, 4356, rows), 0)
    score = (
        0.35 * (years - 10)
        + 0.04 * (np.minimum(age, 60) - 38)
        + 0.03 * (hours - 40)
        + 1.2 * married
        + 0.00004 * gain
        + rng.normal(0, 1.0, rows)
    )
    frame = pd.DataFrame(
        {
            "age": age,
            "workclass": rng.choice(_WORKCLASS, rows, p=_weights(len(_WORKCLASS), peak=0)),
            "fnlwgt": rng.integers(12285, 1484705, rows),
            "education": [_EDUCATION[i][0] for i in edu],
            "education_num": years,
            "marital_status": np.where(married, _MARITAL[0], rng.choice(_MARITAL[1:], rows)),
            "occupation": rng.choice(_OCCUPATION, rows),
            "relationship": np.where(
                married,
                np.where(sex == "Male", "Husband", "Wife"),
                rng.choice(_RELATIONSHIP[2:], rows),
            ),
            "race": rng.choice(_RACE, rows, p=[0.85, 0.096, 0.032, 0.01, 0.012]),
            "sex": sex,
            "capital_gain": gain,
            "capital_loss": loss,
            "hours_per_week": hours,
            "native_country": rng.choice(_COUNTRY, rows, p=_weights(len(_COUNTRY), peak=0)),
            "income": np.where(score > 1.6, ">50K", "<=50K"),
        }
    )
    for column in ("workclass", "occupation", "native_country"):
        frame.loc[rng.random(rows) < 0.02, column] = None
    return frame


def census_csv(rows: int, seed: int = 0) -> bytes:
    """`census` as the UCI file is laid out: no header, ", " separators, `?` for missing."""
    frame = census(rows, seed)
    return frame.to_csv(header=False, index=False, sep=",", na_rep="?").replace(",", ", ").encode()


# 5x7 bitmaps of 0-9, one string of 7 rows of 5 bits each.
_FONT = {
    0: "01110 10001 10011 10101 11001 10001 01110", 1: "00100 01100 00100 00100 00100 00100 01110",
    2: "01110 10001 00001 00010 00100 01000 11111", 3: "11110 00001 00001 01110 00001 00001 11110",
    4: "00010 00110 01010 10010 11111 00010 00010", 5: "11111 10000 11110 00001 00001 10001 01110",
    6: "00110 01000 10000 11110 10001 10001 01110", 7: "11111 00001 00010 00100 01000 01000 01000",
    8: "01110 10001 10001 01110 10001 10001 01110", 9: "01110 10001 10001 01111 00001 00010 01100",
}  # fmt: skip


@cache
def _glyphs() -> dict[int, np.ndarray]:
    """The `_FONT` bitmaps as float32 arrays."""
    import numpy as np

    return {
        d: np.array([[c == "1" for c in row] for row in s.split()], dtype=np.float32)
        for d, s in _FONT.items()
    }


def digits(count: int, seed: int = 0, noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """`count` MNIST-like images (uint8, shape (count, 28, 28), white digit on black) and labels.

    Each digit is its glyph scaled to a random size, placed at a random offset, slanted,
    and blurred with noise; `noise` (0..1) sets how hard the task is.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = np.zeros((count, 28, 28), dtype=np.float32)
    for image, label in zip(images, labels, strict=True):
        scale = rng.uniform(2.4, 3.0)
        height, width = int(7 * scale), int(5 * scale)
        rows = (np.arange(height) / scale).astype(int)
        cols = (np.arange(width) / scale).astype(int)
        glyph = _glyphs()[int(label)][np.ix_(rows, cols)]
        top = rng.integers(1, 28 - height)
        left = rng.integers(2, 28 - width - 2)
        slant = rng.uniform(-0.25, 0.25)
        for r in range(height):
            shift = round(slant * (height / 2 - r))
            c0 = min(max(left + shift, 0), 28 - width)
            image[top + r, c0 : c0 + width] = np.maximum(image[top + r, c0 : c0 + width], glyph[r])
        image[:] = 0.5 * image + 0.25 * (np.roll(image, 1, 0) + np.roll(image, 1, 1))
        image += rng.normal(0, noise, image.shape)
        image[rng.random(image.shape) < noise * 0.2] = 0.0
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.int64)


def _weights(n: int, peak: int) -> np.ndarray:
    """Probabilities over n categories that fall off with distance from `peak`."""
    import numpy as np

    w = 1.0 / (1.0 + np.abs(np.arange(n) - peak))
    return w / w.sum()
