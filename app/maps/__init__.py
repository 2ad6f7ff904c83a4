"""The 2-D map of a project's segments: stored positions and the compact wire format."""
