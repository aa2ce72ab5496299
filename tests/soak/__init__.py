"""The fault-injection soak: simulated printers through hours of faults."""
