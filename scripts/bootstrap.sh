#!/usr/bin/env bash
# Installs the Debian packages the build and tests need; quiet and quick when nothing is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang llvm lld libclang-rt-14-dev clang-format
    linux-libc-dev libelf-dev zlib1g-dev libjansson-dev libcmocka-dev libssl-dev
    libpcap-dev libbpf-dev
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bootstrap: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
else
    sudo=""
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
