#!/usr/bin/env bash
# Installs what the integration suite (npm run test:integration) runs for real, into .tools/ (ignored by
# git), each step skipped when already done:
#   - PySpark 3.5 and 4.0 from PyPI, each in its own folder (.tools/pyspark/<version>), run on this Java 17;
#   - helm from the Go module proxy (go install, into $(go env GOPATH)/bin, kept in the Go caches);
#   - Apache Cassandra 5.0 from Maven Central (tools/cassandra/pom.xml) into tools/cassandra/target/dependency.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/pyspark"
for version in 3.5.7 4.0.1; do
  if [ ! -d "$tools/pyspark/$version/pyspark" ]; then
    echo "installing PySpark $version into .tools/pyspark/$version"
    python3 -m pip install -q --disable-pip-version-check --target "$tools/pyspark/$version" "pyspark==$version"
  fi
done
if ! command -v helm >/dev/null 2>&1 && ! "$(go env GOPATH)/bin/helm" version --short >/dev/null 2>&1; then
  echo "installing helm v3.19.0 with go install"
  go install helm.sh/helm/v3/cmd/helm@v3.19.0
fi
if ! ls "$root/tools/cassandra/target/dependency"/cassandra-all-*.jar >/dev/null 2>&1; then
  echo "fetching Cassandra's jars with Maven"
  (cd "$root/tools/cassandra" && mvn -q -B dependency:copy-dependencies)
fi
java -version 2>&1 | head -1
"$(go env GOPATH)/bin/helm" version --short 2>/dev/null || helm version --short
