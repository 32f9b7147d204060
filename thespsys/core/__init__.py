"""What every layer uses: slices and partitions, settings and their parser,
supervision policies, capabilities, states, processes. Imports nothing above."""
