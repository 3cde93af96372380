"""Hopsworks conventions: project administration (`admin`), the hints front ends attach to
errors (`hints`), transfer planning for the CLI and the `hdfs` facade (`transfer`) and the
pydoop-like handle (`pydoop`). The project model itself lives in `config.project`."""
