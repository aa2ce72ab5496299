"""The Prusa Connect tests' fixtures, shared by every module here."""

from .test_prusa_connect import connect_sim, entry, fake_camera, make_uploader  # noqa: F401  (fixtures)
