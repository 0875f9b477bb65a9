"""Offline benchmarks against the fake LLM server: `python -m benchmarks [--quick] [--only NAME]`."""
