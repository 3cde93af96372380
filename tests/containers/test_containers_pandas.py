"""The pandas/pyarrow Parquet and CSV round trips (tests/formats/test_pandas_pyarrow.py), every
backend, against the container cluster."""

from test_pandas_pyarrow import *
