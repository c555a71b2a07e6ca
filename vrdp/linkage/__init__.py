"""Person linkage: Splink model settings, stable pseudonymous keys, cluster-change log, metrics."""
