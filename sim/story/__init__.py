"""Story simulation: the scenario format (pydantic, JSON Schema), the message-level runner on the one world
(:mod:`quorum.testing.world`), the report and the timeline plot. Imports ``quorum.core``, ``quorum.testing``
and nothing else of ``sim``."""
