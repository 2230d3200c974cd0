"""Pure read-model rules: no I/O, no frameworks. Dates ("on") are always passed in."""
