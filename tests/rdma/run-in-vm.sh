#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Runs a command inside a throw-away qemu (TCG, no KVM needed) VM that has a
# Soft-RoCE device, so the rdma transport's tests run on a machine with no
# RDMA in its kernel. The guest's root filesystem is the host's own / shared
# read-only over virtio-9p: host-built binaries and host-installed libraries
# are at the same paths. Guest /tmp and /run are empty tmpfs, so share the
# build folder read-write with --rw. Inside: rxe device rxe0 on dummy0 with
# 10.0.0.1, exported as RDMA_DEV, RDMA_GID_INDEX, RDMA_ADDR, plus
# VOLLEY_IN_RDMA_VM=1; the command runs by bash in the caller's cwd.
#
#   tests/rdma/run-in-vm.sh [--rw DIR]... [--timeout S] -- 'command'
#   tests/rdma/run-in-vm.sh --check     exit 0 if the VM can run here, else 77
#   tests/rdma/run-in-vm.sh --prepare   only install and cache kernel+initrd
#
# The first run installs the missing Debian packages and caches a Debian
# kernel and an initrd in $VOLLEY_RDMA_VM_DIR (default /var/tmp/volley-rdma-vm),
# under a lock so that concurrent runs prepare it once. Exit status: the
# command's; 77 if the VM cannot be prepared here; 124 on timeout; 125 if no
# exit status came back from the guest.
set -euo pipefail

readonly cache_version=1 # bump when the initrd or the package list changes
work=${VOLLEY_RDMA_VM_DIR:-/var/tmp/volley-rdma-vm}
mem=${VOLLEY_RDMA_VM_MEM:-1024}
smp=${VOLLEY_RDMA_VM_SMP:-2}
timeout_s=${VOLLEY_RDMA_VM_TIMEOUT:-1200}
packages=(qemu-system-x86 busybox-static kmod cpio iproute2 ibverbs-utils rdmacm-utils perftest
  libibverbs-dev librdmacm-dev ibverbs-providers)
# crc32_generic is a soft dependency of rdma_rxe (crypto "crc32") that modules.dep does not list.
modules=(crc32_generic virtio_pci 9pnet_virtio 9p dummy ib_uverbs rdma_ucm rdma_rxe)

usage() { sed -n '12,14s/^#   //p' "$0" >&2; exit 2; }
say() { echo "run-in-vm: $*" >&2; }

mode=run rw_dirs=() cmd=""
while [ $# -gt 0 ]; do
  case $1 in
    --check) mode=check; shift ;;
    --prepare) mode=prepare; shift ;;
    --rw) if [ $# -lt 2 ] || [ ! -d "$2" ]; then say "--rw needs an existing folder"; exit 2; fi
          rw_dirs+=("$(realpath "$2")"); shift 2 ;;
    --timeout) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; timeout_s=$2; shift 2 ;;
    --) shift; [ $# -eq 1 ] || usage; cmd=$1; shift ;;
    *) usage ;;
  esac
done
[ "$mode" != run ] || [ -n "$cmd" ] || usage

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo -n)

missing_packages() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

cache_ready() {
  [ "$(cat "$work/.ready" 2>/dev/null)" = "$cache_version" ] && [ -s "$work/vmlinuz" ] &&
    [ -s "$work/initrd.gz" ] && [ -z "$(missing_packages)" ]
}

# Prints nothing and succeeds if the VM can be prepared or run here; else prints why.
why_not() {
  [ "$(uname -m)" = x86_64 ] || { echo "host is $(uname -m), not x86_64"; return; }
  command -v dpkg-query >/dev/null || { echo "not a Debian host (no dpkg-query)"; return; }
  cache_ready && return
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "not root and no sudo (packages or cache missing)"; return; }
    sudo -n true 2>/dev/null || { echo "not root and sudo needs a password"; return; }
  fi
  command -v apt-get >/dev/null || { echo "no apt-get"; return; }
  if ! timeout 180 "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1; then
    echo "apt-get update failed (no package mirror reachable)"; return
  fi
  kernel_package >/dev/null || { echo "apt knows no linux-image-amd64 kernel"; return; }
}

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; found = 1; exit } END { exit !found }'
}

# The initrd's /init: loads the modules, mounts the host's / read-only as the
# new root, the control folder at /run/volley-ctl and each rw folder at its host
# path, then runs the control folder's guest.sh in a chroot and powers off.
write_init() {
  cat > "$1" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin; export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for ko in $(cat /modlist); do insmod "$ko" || echo "init: insmod $ko failed"; done
o=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o,cache=loose,ro root /newroot || { echo "init: mount root failed"; poweroff -f; }
r=/newroot
mount -t proc proc $r/proc; mount -t sysfs sys $r/sys; mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm; mount -t devpts devpts $r/dev/pts; mount -t tmpfs tmpfs $r/dev/shm
ln -s /proc/self/fd $r/dev/fd; ln -s fd/0 $r/dev/stdin; ln -s fd/1 $r/dev/stdout; ln -s fd/2 $r/dev/stderr
mount -t tmpfs tmpfs $r/tmp; mount -t tmpfs tmpfs $r/run
mkdir -p $r/run/volley-ctl; mount -t 9p -o $o ctl $r/run/volley-ctl || { echo "init: mount ctl failed"; poweroff -f; }
while read -r tag dir; do
  mkdir -p "$r$dir"; mount -t 9p -o $o "$tag" "$r$dir" || echo "init: mount $dir failed"
done < $r/run/volley-ctl/rw
chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb /bin/bash /run/volley-ctl/guest.sh
sync; poweroff -f
EOI
  chmod +x "$1"
}

prepare_locked() {
  local p
  rm -rf "$work"/prepare.* "$work/.ready" # prepare.*: left by a run that failed; the lock is ours
  mapfile -t p < <(missing_packages)
  if [ ${#p[@]} -gt 0 ]; then
    say "installing ${p[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${p[@]}" >/dev/null
  fi
  local kpkg kver tmp ko
  kpkg=$(kernel_package) || { say "apt knows no linux-image-amd64 kernel"; return 1; }
  say "caching kernel $kpkg and an initrd in $work"
  tmp=$(mktemp -d "$work/prepare.XXXXXX")
  chmod 755 "$tmp" # so apt's _apt user may write the download
  (cd "$tmp" && apt-get download -qq "$kpkg" 2> >(grep -v "unsandboxed as root" >&2 || true) &&
    dpkg-deb -x "$kpkg"_*.deb k)
  kver=$(ls "$tmp/k/lib/modules")
  depmod -b "$tmp/k" "$kver" # the package ships no modules.dep
  mkdir -p "$tmp"/i/{bin,dev,proc,sys,newroot,mods}
  cp /bin/busybox "$tmp/i/bin/"
  for m in "${modules[@]}"; do
    modprobe -d "$tmp/k" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' | while read -r ko; do
    case $ko in # busybox insmod takes plain .ko files
      *.xz) xz -dc "$ko" > "$tmp/i/mods/$(basename "$ko" .xz)"; ko=${ko%.xz} ;;
      *.zst) zstd -qdc "$ko" > "$tmp/i/mods/$(basename "$ko" .zst)"; ko=${ko%.zst} ;;
      *) cp "$ko" "$tmp/i/mods/" ;;
    esac
    echo "/mods/$(basename "$ko")"
  done > "$tmp/i/modlist"
  write_init "$tmp/i/init"
  (cd "$tmp/i" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/initrd.gz"
  cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  mv -f "$tmp/vmlinuz" "$tmp/initrd.gz" "$work/"
  echo "$cache_version" > "$work/.ready"
  rm -rf "$tmp"
}

# One lock for checking and preparing: concurrent runs wait for the first one's
# preparation (and its apt-get) instead of racing it.
skip() { echo "run-in-vm: skip: $*"; exit 77; }
if ! cache_ready; then
  { mkdir -p "$work" && : >> "$work/.lock"; } 2> /dev/null || skip "cannot write $work"
  exec 9>> "$work/.lock"
  flock -w 1800 9 || skip "another run has held $work/.lock for 30 min"
  if ! cache_ready; then
    reason=$(why_not)
    [ -z "$reason" ] || skip "$reason"
    if [ "$mode" != check ]; then
      set -E; trap 'say "preparing $work failed"; exit 125' ERR
      prepare_locked
      trap - ERR; set +E
    fi
  fi
  exec 9>&-
fi
[ "$mode" = check ] && exit 0
[ "$mode" = prepare ] && exit 0

ctl=$(mktemp -d "${TMPDIR:-/tmp}/volley-rdma-vm.XXXXXX")
qemu_pid="" tail_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
  rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%s\n' "$cmd" > "$ctl/cmd.sh"
: > "$ctl/rw"
vfs=(-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none,multidevs=remap")
for i in "${!rw_dirs[@]}"; do
  printf 'rw%d %s\n' "$i" "${rw_dirs[$i]}" >> "$ctl/rw"
  vfs+=(-virtfs "local,path=${rw_dirs[$i]//,/,,},mount_tag=rw$i,security_model=none,multidevs=remap")
done
here=$PWD
case $here in
  /tmp|/tmp/*|/run|/run/*)
    visible=no
    for d in "${rw_dirs[@]}"; do case $here/ in "$d"/*) visible=yes ;; esac; done
    [ $visible = yes ] || say "warning: $here is hidden in the VM (guest /tmp, /run are tmpfs); use --rw" ;;
esac

# Runs as root in the chroot. Output goes straight to the shared log (no tee,
# which could lose its last lines at poweroff); the host tails it.
cat > "$ctl/guest.sh" <<EOG
exec > /run/volley-ctl/guest.log 2>&1
ulimit -l unlimited
ip link set lo up
ip link show dummy0 > /dev/null 2>&1 || ip link add dummy0 type dummy # dummy.ko makes one
ip addr add 10.0.0.1/24 dev dummy0; ip link set dummy0 up
rdma link add rxe0 type rxe netdev dummy0
# The GID table and port state fill in asynchronously: wait (bounded) for an
# ACTIVE port and the IPv4 GID, and export the index found. One grep reads the
# whole table (1024 entries): a process per entry takes minutes under TCG.
port=/sys/class/infiniband/rxe0/ports/1 gid_index=""
for _ in \$(seq 100); do
  g=\$(grep -lx 0000:0000:0000:0000:0000:ffff:0a00:0001 \$port/gids/* 2>/dev/null | head -1)
  grep -q ACTIVE \$port/state 2>/dev/null && [ -n "\$g" ] && gid_index=\${g##*/} && break
  sleep 0.1
done
[ -n "\$gid_index" ] || { echo "run-in-vm: rxe0 has no active port with GID 10.0.0.1"; gid_index=1; }
export RDMA_DEV=rxe0 RDMA_GID_INDEX=\$gid_index RDMA_ADDR=10.0.0.1 VOLLEY_IN_RDMA_VM=1
cd $(printf %q "$here") 2>/dev/null || { echo "run-in-vm: $(printf %q "$here") is not visible in the VM, running in /"; cd /; }
bash /run/volley-ctl/cmd.sh < /dev/null
echo \$? > /run/volley-ctl/rc
EOG

# shellcheck disable=SC2054 # the commas are qemu's
args=(-accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" -nographic -nodefaults -serial stdio
  -no-reboot -nic none -kernel "$work/vmlinuz" -initrd "$work/initrd.gz"
  -append "console=ttyS0 panic=-1 quiet loglevel=3 ${VOLLEY_RDMA_VM_APPEND:-}"
  -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap "${vfs[@]}")
console_tail() { tail -30 "$ctl/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' >&2; }
start=$SECONDS
timeout "$timeout_s" qemu-system-x86_64 "${args[@]}" < /dev/null > "$ctl/console.log" 2>&1 &
qemu_pid=$!
tail -n +1 -F -s 0.2 --pid="$qemu_pid" "$ctl/guest.log" 2> /dev/null &
tail_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=""
wait "$tail_pid" || true
tail_pid=""
if [ $qemu_rc -eq 124 ]; then
  say "timed out after ${timeout_s} s; console:"; console_tail; exit 124
fi
[ $qemu_rc -eq 0 ] || say "qemu exited with $qemu_rc"
if [ ! -s "$ctl/rc" ]; then
  say "no exit status from the guest; console:"; console_tail; exit 125
fi
say "VM ran $((SECONDS - start)) s"
exit "$(cat "$ctl/rc")"
