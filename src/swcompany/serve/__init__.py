"""``swcompany serve`` and ``swcompany worker``: the company as a service for teams.

An HTTP API (``app.py``) accepts projects and enqueues them on RQ over Redis
(``jobs.py``); RQ workers (``worker.py``) run them through the public Python API and
publish live events (``stream.py``) and metrics (``metrics.py``) to Redis. Nothing here
is imported by the CLI at start-up: fastapi, rq and redis load only in these commands.
"""
