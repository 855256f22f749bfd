#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing:
#   - Java 17 for PySpark's local mode (the Spark tests are part of the normal run)
#   - Chromium for the report's real-browser test
# Nothing is downloaded at test time; this runs before the tests, with the package manager.
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
