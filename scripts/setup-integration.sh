#!/usr/bin/env bash
# Installs what the integration suite (npm run test:integration) runs for real, into .tools/ (ignored by
# git), each step skipped when already done:
#   - PySpark 3.5 and 4.0 from PyPI with numpy, each in its own folder (.tools/pyspark/<version>), run on this Java 17;
#   - helm from the Go module proxy (go install, into $(go env GOPATH)/bin, kept in the Go caches);
#   - Apache Cassandra 5.0 from Maven Central (tools/cassandra/pom.xml) into tools/cassandra/target/dependency.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/pyspark"
# pyspark.ml imports numpy, which PySpark does not require: each version gets the numpy it supports
# (3.5 predates numpy 2).
for pinned in 3.5.7:1.26.4 4.0.1:2.2.6; do
  version="${pinned%%:*}" numpy="${pinned##*:}"
  if [ ! -d "$tools/pyspark/$version/pyspark" ] || [ ! -d "$tools/pyspark/$version/numpy" ]; then
    echo "installing PySpark $version and numpy $numpy into .tools/pyspark/$version"
    python3 -m pip install -q --disable-pip-version-check --upgrade --target "$tools/pyspark/$version" "pyspark==$version" "numpy==$numpy"
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
