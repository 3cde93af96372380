"""hopsfs-tools: HDFS / HopsFS as a local disk for pandas, pyarrow, TensorFlow, PyTorch and Spark."""

__version__ = "0.1.0"
