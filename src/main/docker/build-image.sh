#!/usr/bin/env bash
# Builds the container image here: no registry, no Docker daemon, only Debian packages
# (podman, runc, mmdebstrap) and the build JDK. `mvn package` calls it through
# training.ImageBuild (which runs the AOT training in between); by hand:
#
#   src/main/docker/build-image.sh tools            # install podman, runc, mmdebstrap, docker-registry (root, apt)
#   src/main/docker/build-image.sh base             # prints the base image (built once per key)
#   src/main/docker/build-image.sh app TAG [ARGS]   # the `app` stage of Dockerfile.jvm on that base
#   src/main/docker/build-image.sh final TAG AOT [ARGS] # the final stage with the trained AOT cache,
#                                                   # and target/image/<name>-<version>.oci.tar
#   src/main/docker/build-image.sh layers TAG       # per-layer sizes (unpacked and compressed)
#   src/main/docker/build-image.sh push TAG DEST [ARGS] # push to DEST (registry/repository:tag), print DEST@digest
#                                                   # (mvn package -Dimage.push=registry/repository does it)
#
# The base is cached as a local image whose tag is a hash of everything that goes into it (this
# script's base recipe, the Debian suite and packages, the JDK build, the jlink modules), so a
# second build only rebuilds the application layers. Podman runs as root with runc and explicit
# ulimits: crun fails on hosts with hybrid cgroups, and the default ulimits can exceed what the
# host allows. IMAGE_JDK=<a JDK 17 home> builds the base on another JDK (the JDK comparison);
# ARGS are extra `podman build` arguments (e.g. --build-arg ARCHIVE_FLAG=-XX:SharedArchiveFile).
set -euo pipefail
cd "$(dirname "$0")/../../.."

DOCKERFILE=src/main/docker/Dockerfile.jvm
BASE_REPO=localhost/zeebe-ambient-enforcer-base
SUITE=bookworm
# What the runtime needs from Debian: libc, zlib, a shell for the entrypoint (dash), CA certificates,
# time zones; dpkg/perl-base/coreutils/... only because Debian's maintainer scripts need them.
PACKAGES=base-files,base-passwd,libc6,libc-bin,zlib1g,dash,coreutils,dpkg,perl-base,mawk,diffutils,findutils,sed,grep,ca-certificates,netbase,tzdata
# The JDK modules the application needs (jdeps over the fast-jar; jdk.compiler and java.rmi, which
# jdeps also lists, are only referenced by Vert.x codegen and jakarta.transaction annotations).
MODULES=java.base,java.desktop,java.naming,java.sql,jdk.management,jdk.unsupported,jdk.zipfs
PODMAN=(podman --runtime runc)

die() { echo "build-image.sh: $*" >&2; exit 1; }

tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v docker-registry >/dev/null || missing+=(docker-registry) # a local OCI registry for the push/pull test
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
    || die "needs ${missing[*]} (Debian packages; as root: apt-get install ${missing[*]}), or build with -Dimage.skip=true"
  echo "build-image.sh: installing ${missing[*]} from Debian" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

java_home() { # the runtime of the image: IMAGE_JDK (another JDK, for comparisons), else the build JDK
  local jdk=${IMAGE_JDK:-${JAVA_HOME:-}}
  [ -n "$jdk" ] && [ -x "$jdk/bin/jlink" ] || die "JAVA_HOME (or IMAGE_JDK) must be a JDK with jlink (source src/test/jdk.sh)"
  echo "$jdk"
}

packages() { # PACKAGES, plus libstdc++ for a JDK whose libjvm needs it (Debian's own builds; Temurin's does not)
  local jdk; jdk=$(java_home)
  if ldd "$jdk/lib/server/libjvm.so" 2>/dev/null | grep -q 'libstdc++'; then echo "$PACKAGES,libstdc++6"; else echo "$PACKAGES"; fi
}

base_key() {
  local jdk; jdk=$(java_home)
  { sed -n '/^base()/,/^}/p' "$0"; echo "$SUITE $(packages) $MODULES"; cat "$jdk/release"; } | sha256sum | cut -c1-16
}

base() {
  tools
  local jdk key ref work
  jdk=$(java_home); key=$(base_key); ref="$BASE_REPO:$key"
  if "${PODMAN[@]}" image exists "$ref"; then echo "$ref"; return 0; fi
  work=$(mktemp -d); trap 'rm -rf "$work"' RETURN
  echo "build-image.sh: base $ref: jlink of $(grep JAVA_RUNTIME_VERSION "$jdk/release")" >&2
  # --strip-debug/--no-*: smaller; no --compress: compressed class files cost start-up (they are
  # inflated at every class load that the AOT cache does not cover).
  # A JDK before 25 also gets its default CDS archive: dynamic AppCDS (its start-up archive) is
  # layered on it ("DynamicDumpSharedSpaces is unsupported when base CDS archive is not loaded").
  # On 25 the AOT cache holds the JDK's classes itself.
  local cds=()
  grep -q '^JAVA_VERSION="\(1[0-9]\|2[0-4]\)\.' "$jdk/release" && cds=(--generate-cds-archive)
  # JDKs before 22 keep EC keys and curves in jdk.crypto.ec (the TLS key is EC: without it Vert.x
  # reports "Missing -----BEGIN PRIVATE KEY----- ... delimiter").
  local modules=$MODULES
  [ -f "$jdk/jmods/jdk.crypto.ec.jmod" ] && modules="$modules,jdk.crypto.ec"
  "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files "${cds[@]}" \
    --output "$work/java" >&2
  # The user the Deployment runs as (185, group 0: the Quarkus images' convention), and /deployments.
  # The sources are the host's own apt sources: no mirror is named here.
  local sources="" f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { sources=$f; break; }
  done
  [ -n "$sources" ] || die "no Debian apt sources on this machine (/etc/apt/sources.list[.d])"
  echo "build-image.sh: base $ref: mmdebstrap $SUITE ($(packages))" >&2
  mmdebstrap --quiet --variant=custom --include="$(packages)" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='echo "jboss:x:185:0:zeebe-ambient-enforcer:/deployments:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='mkdir -p "$1/deployments" && chown 185:0 "$1/deployments"' \
    --customize-hook="cp -a '$work/java' \"\$1/opt/java\"" \
    --customize-hook='rm -rf "$1/var/cache/apt" "$1/var/lib/apt/lists" "$1/var/log"/*' \
    "$SUITE" "$work/rootfs.tar" "$sources" >&2
  "${PODMAN[@]}" import --change 'ENV JAVA_HOME=/opt/java' \
    --change 'ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'USER 185' --change 'WORKDIR /deployments' \
    "$work/rootfs.tar" "$ref" >/dev/null
  echo "$ref"
}

build() { # build TARGET-ARGS...
  "${PODMAN[@]}" build --quiet --ulimit "nofile=$(nofile):$(nofile)" --ulimit nproc=4096:4096 -f "$DOCKERFILE" "$@" . >/dev/null
}

nofile() { local n; n=$(ulimit -Hn); [ "$n" = unlimited ] || [ "$n" -gt 65536 ] && n=65536; echo "$n"; }

app() { # app TAG [BUILD-ARGS...]: the image without its AOT cache, for the training run
  local tag=$1 baseref; shift
  baseref=$(base)
  [ -f target/quarkus-app/quarkus-run.jar ] || die "target/quarkus-app is missing (mvn package)"
  build --target app --build-arg "JAVA_IMAGE=$baseref" "$@" -t "$tag"
  echo "$tag"
}

final() { # final TAG AOT_CACHE [BUILD-ARGS...]
  local tag=$1 aot=$2 baseref name; shift 2
  [ -s "$aot" ] || die "no AOT cache at $aot (the training in the image did not run)"
  baseref=$(base)
  build --build-arg "JAVA_IMAGE=$baseref" --build-arg "AOT_CACHE=$aot" "$@" -t "$tag"
  name=${tag##*/}; name=${name/:/-}
  mkdir -p target/image
  rm -f "target/image/$name.oci.tar"
  "${PODMAN[@]}" save --quiet --format oci-archive -o "target/image/$name.oci.tar" "$tag"
  # the layers of earlier builds of ours that no tag names any more
  "${PODMAN[@]}" image prune --force --filter label=org.opencontainers.image.title=zeebe-ambient-enforcer >/dev/null
  echo "$tag target/image/$name.oci.tar"
}

push() { # push TAG DEST [PODMAN-PUSH-ARGS...]: prints DEST's name with the pushed manifest's digest
  local tag=$1 dest=$2 dir; shift 2
  dir=$(mktemp -d); trap 'rm -rf "$dir"' RETURN
  "${PODMAN[@]}" push --quiet --digestfile "$dir/digest" "$@" "$tag" "docker://$dest" >&2
  echo "${dest%:*}@$(cat "$dir/digest")"
}

layers() { # layers TAG: each layer, unpacked and gzip-compressed (as a registry stores it)
  local tag=$1 dir
  dir=$(mktemp -d); trap 'rm -rf "$dir"' RETURN
  "${PODMAN[@]}" save --quiet --format oci-dir -o "$dir/oci" "$tag"
  python3 - "$dir/oci" <<'EOF'
import gzip, json, os, sys
root = sys.argv[1]
blob = lambda d: os.path.join(root, "blobs", *d.split(":"))
index = json.load(open(os.path.join(root, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
steps = [h.get("created_by", "") for h in config.get("history", []) if not h.get("empty_layer")]
total = [0, 0]
print("%10s %10s  %s" % ("unpacked", "gzip", "layer"))
for i, layer in enumerate(manifest["layers"]):
    data = open(blob(layer["digest"]), "rb").read()
    if data[:2] == b"\x1f\x8b":
        packed, data = len(data), gzip.decompress(data)
    else:
        packed = len(gzip.compress(data, 6))
    total[0] += len(data); total[1] += packed
    step = (steps[i] if i < len(steps) else "").replace("/bin/sh -c #(nop) ", "").strip()
    print("%7.1f MB %7.1f MB  %s" % (len(data) / 1e6, packed / 1e6, step[:90]))
print("%7.1f MB %7.1f MB  total" % (total[0] / 1e6, total[1] / 1e6))
EOF
}

cmd=${1:-}; shift || true
case "$cmd" in
  tools) tools ;;
  base) base ;;
  key) base_key ;;
  app) app "$@" ;;
  final) final "$@" ;;
  layers) layers "$@" ;;
  push) push "$@" ;;
  *) die "usage: build-image.sh tools|base|key|app TAG|final TAG AOT_CACHE|layers TAG|push TAG DEST" ;;
esac
