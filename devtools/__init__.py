"""Developer tools: what `scripts/develop` runs to set up a local Home Assistant."""
