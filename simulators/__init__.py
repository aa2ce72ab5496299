"""Loopback simulators of every external service Print Sentinel talks to.

Each module is an aiohttp app speaking the real protocol, runnable alone
(`python -m simulators.<name> --port N`) and usable from tests as a fixture.
"""
