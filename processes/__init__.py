"""The domain pack: one module per process, each exposing `DEFINITION` (see service/pack.py)."""
