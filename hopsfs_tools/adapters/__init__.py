"""Adapters of one module per framework or tool: Spark, torch and the tools of today.

Each imports its framework lazily or only when imported itself, so `import hopsfs_tools` imports
none of them (TensorFlow and Jupyter have packages of their own at the root).
"""
