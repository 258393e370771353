"""Benchmarks of the booking service (commands, not timed tests): `python -m booking.bench`."""
