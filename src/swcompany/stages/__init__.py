"""The roles of the company. ``registry.py`` is the one list of them; each module is one role."""
