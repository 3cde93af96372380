"""The Java side of Hadoop: jars from Maven Central (or $HADOOP_HOME) and libhdfs."""

from hopsfs_tools.hadoop.jars import HADOOP_VERSION, hadoop_classpath, hadoop_jars

__all__ = ["HADOOP_VERSION", "hadoop_classpath", "hadoop_jars"]
