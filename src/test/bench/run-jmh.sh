#!/usr/bin/env bash
# README "Performance" 1: decode -> decide -> patch -> encode in-process (JMH), per realistic pod,
# next to the bare JSON parse of the same body. Extra JMH options pass through, e.g. -f 2 -i 10.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
mvn -q -B test-compile -DskipTests
exec mvn -q -B exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
  -Dexec.args="-cp %classpath org.openjdk.jmh.Main DecisionBenchmark -rf text -rff target/jmh-result.txt $*"
