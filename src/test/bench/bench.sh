# Sourced by the benchmark scripts (from the repository root): a JDK 25, the API server and
# istiod binaries (cached), the packaged enforcer with its start-up archive; then bench_main runs
# a benchmark's main class on the test class path, passing the script's -D options through.
source src/test/jdk.sh
bash src/test/kube/build-binaries.sh >/dev/null
bash src/test/istio/build-istio.sh >/dev/null
mvn -q -B package -DskipTests

bench_main() {
  local main="$1"
  shift
  exec mvn -q -B exec:java -Dexec.classpathScope=test -Dexec.cleanupDaemonThreads=false \
    -Dexec.mainClass="dev.zeebeambient.enforcer.bench.$main" "$@"
}
