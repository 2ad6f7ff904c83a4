"""Label one, find the rest: nearest segments in embedding space."""
