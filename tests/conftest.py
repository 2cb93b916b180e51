"""Suite-wide test settings: hypothesis profiles sized for a 2-core CI machine."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Fixture trees are scanned and fixed as text, never imported: some are named like test modules on purpose.
collect_ignore_glob = ["scan/fixtures/*", "fix/fixtures/*"]
