"""One replication over years: component processes, the patch calendar, backups and corruption, common
cause, the structural rule and the Tier presets. Imports :mod:`sim.story` (the scenario format and the
message-level runner that replays each fault episode), never a layer above."""
