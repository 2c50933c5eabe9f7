#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages weft needs, then configures and builds it.
# Idempotent: re-running installs nothing new and rebuilds only what changed.
#
#   bash scripts/setup.sh            # packages + release build (build/release)
#   bash scripts/setup.sh --preset debug|asan
#   bash scripts/setup.sh --no-build # packages only
#   WEFT_SKIP_APT=1 bash scripts/setup.sh   # build only (packages already there)
#   bash scripts/setup.sh --test-deps  # also what the test suite's real clients need:
#       Debian's chromium (headless browser test) and node/npm, then the npm modules
#       openai + playwright-core into tests/serve/js/node_modules (npm registry).
#       Without them those client tests print SKIP; WEFT_SKIP_NPM=1 skips the npm step.
set -euo pipefail

preset=release
build=1
test_deps=0
while (($#)); do
  case "$1" in
    --preset) preset=${2:?--preset needs a name}; shift 2 ;;
    --no-build) build=0; shift ;;
    --test-deps) test_deps=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."

# Build tools, libraries (dev packages), and the data weft's demo and tests use.
packages=(
  build-essential cmake pkg-config ccache git
  libopenblas-openmp-dev          # BLAS on the same OpenMP pool as weft's loops
  libdnnl-dev                     # oneDNN: bf16 matmuls (--precision bf16)
  libopenmpi-dev openmpi-bin      # ranks as processes, one node or many
  libcli11-dev nlohmann-json3-dev libssl-dev libcpp-httplib-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  bible-kjv fortunes wordnet-base # real text corpora (the demo's default is the KJV Bible)
  unicode-data                    # UCD source of tools/gen_unicode_tables.py (tokenizer classes)
)

if ((test_deps)); then
  packages+=(chromium)
  packages+=(iproute2 procps)     # ip netns / tc / sysctl: the simulated multi-host cluster tests
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)) || [[ ${WEFT_SKIP_APT:-0} == 1 ]]; then
  echo "setup: all packages present"
else
  if ! command -v apt-get >/dev/null; then
    echo "setup: apt-get not found: this script is for Debian/Ubuntu." >&2
    echo "       Install the equivalents of: ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "setup: need root to install: ${missing[*]}" >&2
      echo "       run as root, install sudo, or install them yourself and use WEFT_SKIP_APT=1" >&2
      exit 1
    fi
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ((test_deps)) && [[ ${WEFT_SKIP_NPM:-0} != 1 ]] && command -v npm >/dev/null; then
  if [[ ! -d tests/serve/js/node_modules ]]; then
    echo "setup: installing the npm modules of weft serve's client tests (tests/serve/js)"
    npm ci --prefix tests/serve/js --no-audit --no-fund --silent ||
      echo "setup: npm ci failed; the client tests will be skipped" >&2
  fi
fi

if ((build)); then
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  echo "setup: built build/$preset/weft"
fi
