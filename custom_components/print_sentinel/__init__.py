"""Print Sentinel: watch 3D printers and stop failed prints."""
