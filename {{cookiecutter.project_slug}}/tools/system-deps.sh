#!/usr/bin/env bash
# The system programs the pipeline and its tests use, beside the Python packages
# `make setup` installs: one table, one way to install them.
#
#   tools/system-deps.sh [TOOL...]            install the missing ones (default: the project's set)
#   tools/system-deps.sh --report [TOOL...]   list the missing ones and what needs them; exit 0
#   tools/system-deps.sh --check [TOOL...]    the same, but exit 1 when one is missing
#   tools/system-deps.sh --hint TOOL          how to install one tool, on one line
#
# On Debian or Ubuntu (as root, or with sudo) the missing tools are installed with
# apt-get. Anywhere else the script stops at once with one message listing what is
# missing and how to get it (macOS: Homebrew). `make system-deps` runs it.
set -euo pipefail

# The project's own set: `make all` (the local release, the service's integration tests,
# the live Prometheus scrape), the alert-rule checks and `make image`.
DEFAULT_TOOLS=(git nginx prometheus promtool container-engine)
# Debian keeps daemons in the sbin folders, which are not on every user's PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# tool -> Debian/Ubuntu packages (with Recommends when the list starts with "+").
apt_packages() {
  case "$1" in
    promtool | prometheus) echo prometheus ;;
    podman | container-engine) echo "+podman uidmap fuse-overlayfs slirp4netns" ;;
    postgresql) echo postgresql ;;
    *) echo "$1" ;;
  esac
}

# tool -> Homebrew formula, or nothing when the tool exists on Linux only.
brew_formula() {
  case "$1" in
    promtool | prometheus) echo prometheus ;;
    podman | container-engine) echo podman ;;
    runc | debootstrap | docker-registry | buildah | uidmap) echo "" ;;
    *) echo "$1" ;;
  esac
}

# tool -> what needs it (shown when it is missing).
needed_by() {
  case "$1" in
    git) echo "everything (a project is a git repository)" ;;
    nginx) echo "make deploy-local, make integration, make all" ;;
    prometheus) echo "make integration (live scrape), make all" ;;
    promtool) echo "checking infra/monitoring rules (README, Monitoring)" ;;
    container-engine | podman) echo "make image, make image-smoke, make image-push" ;;
    wrk) echo "make bench-serving, benchmarks/serving_throughput.py" ;;
    postgresql) echo "make tracking-server (its local database; README, Team mode)" ;;
    *) echo "the template's tests" ;;
  esac
}

present() {
  case "$1" in
    container-engine) command -v podman >/dev/null 2>&1 || command -v docker >/dev/null 2>&1 ;;
    # Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off PATH.
    postgresql) command -v pg_ctl >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

hint() {
  local packages formula
  packages="$(apt_packages "$1")"
  formula="$(brew_formula "$1")"
  printf 'Debian/Ubuntu: apt-get install %s' "${packages#+}"
  if [ -n "$formula" ]; then printf '; macOS: brew install %s' "$formula"; fi
  echo
}

mode=install
case "${1:-}" in
  --report | --check) mode="${1#--}"; shift ;;
  --hint) hint "${2:?--hint needs a tool name}"; exit 0 ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=("${DEFAULT_TOOLS[@]}")

missing=()
for tool in "${tools[@]}"; do
  present "$tool" || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "$mode" = report ] || echo "system tools: all present (${tools[*]})"
  exit 0
fi

describe_missing() {
  for tool in "${missing[@]}"; do
    echo "  - $tool: needed by $(needed_by "$tool"); $(hint "$tool")"
  done
}

if [ "$mode" != install ]; then
  echo "missing system tools (\`make system-deps\` installs them):"
  describe_missing
  [ "$mode" = report ] && exit 0
  exit 1
fi

# Installing: Debian or Ubuntu with apt-get, as root or through sudo; else one message.
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); fi
fi
if ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && [ ${#sudo_cmd[@]} -eq 0 ]; }; then
  where="this system has no apt-get"
  command -v apt-get >/dev/null 2>&1 && where="installing needs root or sudo"
  echo "system-deps: cannot install, $where. Missing:" >&2
  describe_missing >&2
  exit 1
fi

plain=()
with_recommends=()
for tool in "${missing[@]}"; do
  packages="$(apt_packages "$tool")"
  if [ "${packages:0:1}" = + ]; then
    read -r -a names <<<"${packages#+}"
    with_recommends+=("${names[@]}")
  else
    read -r -a names <<<"$packages"
    plain+=("${names[@]}")
  fi
done

# Without a service manager (a container, a CI job), a package's postinst would start
# its daemon (nginx on :80, prometheus on :9090) with nobody to stop it: forbid that
# for the time of the install, as container images do.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -d /run/systemd/system ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  own_policy=true
fi
cleanup() { if $own_policy; then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

echo "system-deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
if [ ${#plain[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
fi
if [ ${#with_recommends[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq "${with_recommends[@]}" >/dev/null
fi

still=()
for tool in "${missing[@]}"; do
  present "$tool" || still+=("$tool")
done
if [ ${#still[@]} -gt 0 ]; then
  missing=("${still[@]}")
  echo "system-deps: still missing after apt-get (not on PATH?):" >&2
  describe_missing >&2
  exit 1
fi
echo "system-deps: installed ${missing[*]}"
