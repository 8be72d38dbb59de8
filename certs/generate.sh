#!/usr/bin/env bash
# Makes a throw-away CA and the webhook's serving certificate (EC P-256, key in PKCS#8 PEM) for
# webhook-config/overlays/static-certs. See docs/install-details.md.
#
#   certs/generate.sh [--out DIR | DIR] [--service NAME] [--namespace NS] [--cluster-domain D]
#                     [--dns NAME]... [--ip ADDR]...
#
# Environment defaults: SERVICE_NAME, SERVICE_NAMESPACE, CLUSTER_DOMAIN.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$repo_root/webhook-config/overlays/static-certs/generated"
service=${SERVICE_NAME:-zeebe-ambient-enforcer}
namespace=${SERVICE_NAMESPACE:-zeebe-ambient-enforcer}
domain=${CLUSTER_DOMAIN:-cluster.local}
secret_name=zeebe-ambient-enforcer-tls   # what the Deployment mounts
webhook_name=zeebe-ambient-enforcer      # MutatingWebhookConfiguration and its one webhook:
webhook_entry=pods.zeebe-ambient-enforcer.io
ca_days=3650
cert_days=365
extra_dns=()
extra_ips=()

usage() { sed -n '2,8s/^# \{0,1\}//p' "$0"; exit "${1:-0}"; }
need() { [[ $# -ge 2 && -n $2 ]] || { echo "generate.sh: $1 needs a value" >&2; usage 2 >&2; }; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --out) need "$@"; out=$2; shift 2 ;;
    --service) need "$@"; service=$2; shift 2 ;;
    --namespace) need "$@"; namespace=$2; shift 2 ;;
    --cluster-domain) need "$@"; domain=$2; shift 2 ;;
    --dns) need "$@"; extra_dns+=("$2"); shift 2 ;;
    --ip) need "$@"; extra_ips+=("$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "generate.sh: unknown option $1" >&2; usage 2 >&2 ;;
    *) out=$1; shift ;;
  esac
done

command -v openssl >/dev/null || { echo "generate.sh: openssl not found" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
umask 077 # keys are created private; certificates are opened up below
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Keys must never be committed, wherever they are written.
printf '*\n!.gitignore\n' > "$out/.gitignore"

# Back-date notBefore by an hour against clock skew, where this openssl can (3.4+ has -not_before).
backdate=()
if openssl x509 -help 2>&1 | grep -q -- '-not_before'; then
  backdate=(-not_before "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ 2>/dev/null || date -u -v-1H +%Y%m%d%H%M%SZ)")
fi

sans="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.$domain"
for d in "${extra_dns[@]+"${extra_dns[@]}"}"; do sans+=",DNS:$d"; done
for i in "${extra_ips[@]+"${extra_ips[@]}"}"; do sans+=",IP:$i"; done

# Our own config: nothing inherited from the system openssl.cnf.
cat > "$work/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $sans
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

serial() { echo "0x$(openssl rand -hex 16)"; }
quiet() { "$@" 2>"$work/err" || { cat "$work/err" >&2; return 1; }; } # openssl x509 chats on stderr

# CA: EC P-256, 10 years.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key"
openssl req -new -key "$out/ca.key" -subj "/CN=$service-ca" -config "$work/openssl.cnf" -out "$work/ca.csr"
quiet openssl x509 -req -in "$work/ca.csr" -signkey "$out/ca.key" -days "$ca_days" -sha256 -set_serial "$(serial)" \
  "${backdate[@]+"${backdate[@]}"}" -extfile "$work/openssl.cnf" -extensions ca -out "$out/ca.crt"

# Serving certificate: EC P-256, 1 year, signed by the CA. The API server checks the SANs only.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tls.key"
openssl req -new -key "$out/tls.key" -subj "/CN=$service.$namespace.svc" -config "$work/openssl.cnf" \
  -out "$work/tls.csr"
quiet openssl x509 -req -in "$work/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -days "$cert_days" -sha256 \
  -set_serial "$(serial)" "${backdate[@]+"${backdate[@]}"}" -extfile "$work/openssl.cnf" -extensions serving \
  -out "$out/tls.crt"
openssl verify -CAfile "$out/ca.crt" "$out/tls.crt" >/dev/null

b64() { openssl base64 -A -in "$1"; }
chmod 644 "$out/ca.crt" "$out/tls.crt"

# caBundle: base64 of the CA certificate, one line.
b64 "$out/ca.crt" > "$out/cabundle.txt"
echo >> "$out/cabundle.txt"

# The Secret, for `kubectl apply -f` without kustomize (the overlay generates the same one).
cat > "$out/secret.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $secret_name
  namespace: $namespace
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
EOF

# Strategic-merge patch the static-certs overlay applies (webhooks merge by name).
cat > "$out/webhook-cabundle-patch.yaml" <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: $webhook_name
webhooks:
  - name: $webhook_entry
    clientConfig:
      caBundle: $(b64 "$out/ca.crt")
EOF

chmod 644 "$out/.gitignore" "$out/cabundle.txt" "$out/webhook-cabundle-patch.yaml" # secret.yaml holds the key: stays 0600

echo "generate.sh: wrote ca.crt ca.key tls.crt tls.key secret.yaml cabundle.txt webhook-cabundle-patch.yaml to $out"
echo "generate.sh: serving certificate SANs: $sans (valid $cert_days days; CA $ca_days days)"
