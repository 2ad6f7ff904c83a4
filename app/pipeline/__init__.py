"""The dataset pipeline as jobs: segment every image, embed every segment, project the map."""
