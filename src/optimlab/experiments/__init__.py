"""Experiments: configured runs, their files and their plots."""
