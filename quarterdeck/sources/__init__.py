"""Sources: where data comes from beyond dropped files (the tracking API, later connectors)."""
