"""Hopsworks conventions: the project model (`project`), project administration (`admin`) and
the hints front ends attach to errors (`hints`)."""
