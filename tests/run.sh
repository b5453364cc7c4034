#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it: lint, architecture contract,
# unit and property tests, integration tests on a real Kafka broker (Apache Kafka 4.1 from
# Maven Central, started by the fixtures), and the demo smoke test on the embedded broker.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is missing. $2" >&2; exit 2; }; }
need java "Install Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)."
need mvn "Install Maven (Debian: apt-get install -y maven); the tests fetch Kafka from Maven Central with it."

# Debian packages the deploy tests use: prometheus (promtool and a real server),
# prometheus-alertmanager (amtool), docker-compose (validates the compose file without a daemon).
# The database and browser fixtures use: postgresql (initdb/pg_ctl for a throwaway cluster),
# chromium and chromium-driver (headless Chromium driven by Selenium through chromedriver).
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]} =="
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv =="
  python3 -m venv .venv
fi
echo "== installing the project and its test dependencies =="
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff =="
ruff check services tests benchmarks
ruff format --check services tests benchmarks
echo "== architecture: the core imports no broker, stream framework, metrics or CLI =="
lint-imports
echo "== pytest =="
exec python -m pytest "$@"
