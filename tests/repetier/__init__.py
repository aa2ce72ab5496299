"""Tests of the Repetier-Server backend and its simulator."""
