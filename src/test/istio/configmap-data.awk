# Used by build-istio.sh. Writes <out>/<ConfigMap name>.<key> for the block-scalar data keys config, values
# and mesh of every ConfigMap in a multi-document manifest as `istioctl manifest generate` prints it
# (keys sorted, so data comes before metadata; data values indented by four spaces).
function flush(   k, f) {
  if (kind == "ConfigMap" && name != "")
    for (k in buf) { f = out "/" name "." k; printf "%s", buf[k] > f; close(f) }
  delete buf; kind = ""; name = ""; key = ""
}
/^---/ { flush(); next }
/^kind: / { kind = $2 }
/^  name: / { name = $2 }
/^  (config|values|mesh): [|]-?$/ { key = $1; sub(":", "", key); buf[key] = ""; next }
key != "" {
  if ($0 ~ /^    / || $0 == "") { line = $0; sub(/^    /, "", line); buf[key] = buf[key] line "\n"; next }
  key = ""
}
END { flush() }
