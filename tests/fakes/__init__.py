"""Stand-ins for what lies outside this machine, reached over real network connections."""
