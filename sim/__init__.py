"""The discrete-event simulator (issue #3). It drives ``quorum.core``; it never decides itself."""
