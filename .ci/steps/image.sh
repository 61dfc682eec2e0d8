#!/usr/bin/env bash
# CI step: build the appliance image (without the kiosk browser, to keep CI short) from the
# release binaries and boot-test it under qemu (TCG). Skips, saying why, on a machine that
# cannot: not root, under 10 GB free, or the Debian packages it needs cannot be installed.
# Budget (measured, 2 cores): see docs/installer.md "Figures".
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)
skip() { echo "image step SKIPPED: $*"; exit 0; }
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

[ "$(id -u)" = 0 ] || skip "not root (mmdebstrap --mode=root and chroot need root)"
[ "${VOLTVEND_CI_IMAGE:-1}" != 0 ] || skip "VOLTVEND_CI_IMAGE=0"
work_dir=${TMPDIR:-/var/tmp}
free_gb=$(df --output=avail -BG "$work_dir" | tail -1 | tr -dc 0-9)
[ "$free_gb" -ge 10 ] || skip "only ${free_gb} GB free in $work_dir; the build and boot test need about 10 GB"

# The image tools, from Debian. The machine may carry a newer qemu-utils (backports) that
# Breaks the distribution's qemu-system-x86: then take the distribution's matching one.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
need=()
for pkg in mmdebstrap qemu-system-x86 qemu-utils bmap-tools sshpass grub-pc-bin grub-efi-amd64-bin \
  dosfstools mtools squashfs-tools fdisk e2fsprogs zstd curl tmux openssh-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  pkgs=("${need[@]}")
  if [[ " ${need[*]} " == *" qemu-system-x86 "* ]] && dpkg -s qemu-utils >/dev/null 2>&1; then
    pkgs+=("qemu-utils/$codename")
  fi
  apt-get install -y -qq --no-install-recommends --allow-downgrades "${pkgs[@]}" >/tmp/voltvend-image-apt.log 2>&1 \
    || skip "could not install ${need[*]} from Debian: $(tail -2 /tmp/voltvend-image-apt.log | tr '\n' ' ')"
fi
echo "image: tools ready ($(elapsed))"

target=${CARGO_TARGET_DIR:-target}
nice -n 5 cargo build --release --workspace --locked --bins
echo "image: release binaries built ($(elapsed))"

# The build downloads Debian's packages: when the registry cannot be reached the machine
# cannot build the image (a skip, said so); any other build failure fails CI.
build_log=$(mktemp)
if ! image/build --without-kiosk --out "$target/image" --binaries "$target/release" 2>&1 | tee "$build_log"; then
  if grep -qiE 'Temporary failure resolving|Could not resolve|Failed to fetch|Connection (timed out|refused)|Network is unreachable' "$build_log"; then
    skip "Debian's package registry could not be reached: $(grep -m1 -iE 'resolv|fetch|Connection|unreachable' "$build_log")"
  fi
  echo "image: build FAILED ($(elapsed))"; exit 1
fi
rm -f "$build_log"
echo "image: built ($(elapsed))"

image/test --image "$target/image/voltvend.qcow2"
echo "image: step done in $(elapsed)"
