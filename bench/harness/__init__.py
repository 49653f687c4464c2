"""Building blocks of the suite: time budget, processes, services, load generation, reporting."""
