"""Asset checks grouped by source."""
