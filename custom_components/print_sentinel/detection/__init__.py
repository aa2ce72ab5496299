"""AI print-failure detection: frames, detectors, decision policy, monitor."""
