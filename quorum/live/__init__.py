"""The live controller: real processes that feed real heartbeats and real time into ``quorum.core``.

Every module here is an *adapter*: it owns sockets, files, timers and retries, and calls the core with
``time.monotonic()`` as ``now``. No module here decides a role, an epoch or a grant.
"""
