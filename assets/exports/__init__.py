"""Assets that publish the versioned exports (hot spot tasking, person views)."""
