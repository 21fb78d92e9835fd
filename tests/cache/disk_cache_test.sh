#!/usr/bin/env bash
# The on-disk kernel cache across processes: the second run compiles nothing; corrupt, truncated and
# foreign entries are detected and rebuilt; the switch turns it off; the size bound evicts; concurrent
# processes agree. Every run must produce the same result.
set -euo pipefail
probe="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
field() { sed -n "s/.*$1=\([0-9a-f]*\).*/\1/p" <<<"$2"; }
run() { HALOGEN_CACHE_DIR="$dir/cache" "$@" "$probe"; }
expect() {  # expect NAME OUTPUT FIELD OP VALUE
  local value; value="$(field "$3" "$2")"
  if ! [ "$value" "$4" "$5" ]; then echo "FAIL ($1): $3=$value, expected $4 $5 in: $2"; exit 1; fi
}

first="$(run env)"; echo "cold:       $first"
expect cold "$first" halide_compiles -ge 1
expect cold "$first" disk_hits -eq 0
checksum="$(field checksum "$first")"

second="$(run env)"; echo "warm:       $second"
expect warm "$second" halide_compiles -eq 0
expect warm "$second" disk_hits -eq 1
expect warm "$second" checksum = "$checksum"

# Flip one byte in the middle of every entry: each is rejected by its checksum and rebuilt.
for f in "$dir"/cache/*.hkc; do
  size=$(stat -c %s "$f")
  printf '\xff' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
done
third="$(run env)"; echo "corrupted:  $third"
expect corrupted "$third" disk_rejected -ge 1
expect corrupted "$third" halide_compiles -ge 1
expect corrupted "$third" checksum = "$checksum"

# A file cut short, as a process killed mid-write without the atomic rename would leave it.
for f in "$dir"/cache/*.hkc; do truncate -s $(( $(stat -c %s "$f") / 3 )) "$f"; done
fourth="$(run env)"; echo "truncated:  $fourth"
expect truncated "$fourth" disk_rejected -ge 1
expect truncated "$fourth" checksum = "$checksum"
expect "after rebuild" "$(run env)" halide_compiles -eq 0

# An entry whose checksum is right but whose object does not load (as one written by a build that
# links differently would be): the loader refuses it, the entry is removed and the kernel recompiled.
for f in "$dir"/cache/*.hkc; do
  python3 - "$f" <<'PY'
import struct, sys
path = sys.argv[1]
data = open(path, "rb").read()
magic = b"HALOGEN-KERNEL-CACHE 1\n"
key_len = struct.unpack_from("<Q", data, len(magic))[0]
head = data[: len(magic) + 8 + key_len]
payload = b"\x7fELF this is not an object file" * 8
h = 0xcbf29ce484222325
for b in payload:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
open(path, "wb").write(head + struct.pack("<QQ", len(payload), h) + payload)
PY
done
unloadable="$(run env)"; echo "unloadable: $unloadable"
expect unloadable "$unloadable" disk_rejected -ge 1
expect unloadable "$unloadable" halide_compiles -ge 1
expect unloadable "$unloadable" checksum = "$checksum"
expect "after reload" "$(run env)" halide_compiles -eq 0

# Off switch: nothing read, nothing written.
off="$(HALOGEN_DISABLE_DISK_CACHE=1 HALOGEN_CACHE_DIR="$dir/off" "$probe")"; echo "disabled:   $off"
expect disabled "$off" disk_writes -eq 0
[ ! -e "$dir/off" ] || { echo "FAIL: the disabled cache created $dir/off"; exit 1; }

# Size bound: with room for almost nothing, only the newest entry stays.
bounded="$(HALOGEN_CACHE_MAX_BYTES=1 HALOGEN_CACHE_DIR="$dir/bounded" "$probe")"; echo "bounded:    $bounded"
count=$(ls "$dir/bounded"/*.hkc | wc -l)
[ "$count" -le 1 ] || { echo "FAIL: $count entries kept under a 1-byte bound"; exit 1; }

# Four processes at once on an empty cache: all agree, and the cache they leave is whole.
for i in 1 2 3 4; do HALOGEN_CACHE_DIR="$dir/shared" "$probe" >"$dir/p$i.txt" & done
wait
for i in 1 2 3 4; do expect "concurrent $i" "$(cat "$dir/p$i.txt")" checksum = "$checksum"; done
after="$(HALOGEN_CACHE_DIR="$dir/shared" "$probe")"; echo "after concurrent writers: $after"
expect "after concurrent writers" "$after" halide_compiles -eq 0
echo "disk cache: all checks passed"
