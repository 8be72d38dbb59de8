#!/usr/bin/env bash
# README "Performance" 7 (issue 15 §2): start-up with and without the start-up archive, on each
# JDK given, rounds interleaved. `mvn package` trains the archive for the JDK Maven runs on; the
# archive of every other JDK is trained here (same jar, no rebuild: an archive is only valid for
# the jar files it was recorded with). Options: -Drounds=5
# -Djdks=/usr/lib/jvm/java-17-openjdk-amd64,/usr/lib/jvm/temurin-25-jdk-amd64 (default: both when present).
set -euo pipefail
cd "$(dirname "$0")/../../.."
jdks=""
for a in "$@"; do case "$a" in -Djdks=*) jdks="${a#-Djdks=}";; esac; done
if [ -z "$jdks" ]; then
  for h in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64 "${JAVA_HOME:-}"; do
    [ -n "$h" ] && [ -x "$h/bin/java" ] && case ",$jdks," in *",$h,"*) ;; *) jdks="${jdks:+$jdks,}$h";; esac
  done
  set -- "$@" "-Djdks=$jdks"
fi
source src/test/bench/bench.sh
running="$JAVA_HOME" # what bench.sh packaged and trained with
IFS=, read -ra homes <<<"$jdks"
for h in "${homes[@]}"; do
  if [ "$(readlink -f "$h")" != "$(readlink -f "$running")" ]; then
    echo "training the start-up archive for $h ..."
    mvn -q -B exec:exec -Dexec.executable="$h/bin/java" -Dexec.classpathScope=test \
      -Dexec.args="-Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp %classpath dev.zeebeambient.enforcer.training.AotTraining"
  fi
done
bench_main StartupComparison "$@"
