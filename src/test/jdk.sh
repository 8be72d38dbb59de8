# Sourced by .ci/run, run-local.sh and the benchmark scripts: the build and the enforcer run on
# Java 25 (README "Prerequisites": its AOT cache is what cuts start-up). Keeps JAVA_HOME when it
# is a JDK 25+, else takes the first JDK 25+ found on PATH or under /usr/lib/jvm; fails with a
# message naming what it looked at.
jdk_feature() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
jdk_pick() {
  local c
  for c in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" /usr/lib/jvm/*; do
    if [ -n "$c" ] && [ -x "$c/bin/javac" ] && [ "$(jdk_feature "$c")" -ge 25 ] 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
if ! JAVA_HOME="$(jdk_pick)"; then
  echo "a JDK 25 or newer is required (looked at JAVA_HOME='${JAVA_HOME:-}', java on PATH, /usr/lib/jvm/*)" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" # Maven 3.8 on JDK 25: no Unsafe warnings
