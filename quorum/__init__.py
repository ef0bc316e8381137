"""quorum: keep two data centers serving as one without ever letting both serve alone."""

__version__ = "0.1.0"
