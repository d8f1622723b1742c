#!/usr/bin/env bash
# The whole test suite: lint, then every test (browser tests in headless Chromium,
# PostgreSQL tests when QUARTERDECK_TEST_POSTGRES_URL is set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Browser tests drive Debian's Chromium; install it when we can (root with apt-get).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/dev/null 2>&1 || echo "warning: could not install chromium; browser tests will skip"
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider "$@"
