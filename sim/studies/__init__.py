"""Studies: what notebooks and the CLI call (compare designs, sweep a field, evaluate one design). The top
layer of the simulator: it may import every layer below."""
