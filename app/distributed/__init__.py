"""Ray for dataset-scale inference: the segment and embed jobs' per-image work on a Ray cluster.

Imported only when LASSOLABEL_RAY_ADDRESS is set; everything else never imports Ray.
"""
