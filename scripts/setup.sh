#!/usr/bin/env bash
# Installs everything a build needs, on Debian 12 with only the package registries reachable.
# Idempotent: each step checks first and does nothing when its piece is already there.
# On failure it names the step and the missing piece, shows the end of that step's log, and exits 1.
#
# Overridable for tests and unusual machines:
#   WASM_RUSTC, WASM_CARGO   the Debian toolchain that targets wasm32 (default /usr/bin/rustc, /usr/bin/cargo)
#   RUST_LIBRARY_SRC         std sources for that toolchain (default /usr/src/rustc-<version>/library)
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
APT_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 chromium)
WASM_RUSTC=${WASM_RUSTC:-/usr/bin/rustc}
WASM_CARGO=${WASM_CARGO:-/usr/bin/cargo}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export PATH="$CARGO_HOME/bin:$PATH"
LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

fail() {
  echo "setup: FAILED at '$1': $2" >&2
  if [ -n "${3:-}" ] && [ -s "$3" ]; then
    echo "---- last lines of its log ----" >&2
    tail -n 25 "$3" >&2
  fi
  exit 1
}

# Runs a step's command with its output in a log, failing with the step's name.
run() {
  local step=$1 why=$2
  shift 2
  local log="$LOG_DIR/$(echo "$step" | tr -c 'a-zA-Z0-9' _).log"
  echo "setup: $step"
  "$@" >"$log" 2>&1 || fail "$step" "$why" "$log"
}

# 1. Debian packages: the wasm-capable Rust toolchain, its std sources, the linker, Chromium.
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "apt-get install ${missing[*]}" "these Debian packages are missing and installing them needs root"
  run "apt-get update" "Debian's package mirror could not be reached" apt-get update -q
  run "apt-get install ${missing[*]}" "Debian's package mirror could not be reached or a package is unknown" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
[ -x "$WASM_RUSTC" ] || fail "rustc-web" "$WASM_RUSTC is missing: install Debian's rustc-web (or set WASM_RUSTC)"
[ -x "$WASM_CARGO" ] || fail "cargo-web" "$WASM_CARGO is missing: install Debian's cargo-web (or set WASM_CARGO)"
rustc_version=$("$WASM_RUSTC" --version | awk '{print $2}')
RUST_LIBRARY_SRC=${RUST_LIBRARY_SRC:-/usr/src/rustc-$rustc_version/library}
[ -d "$RUST_LIBRARY_SRC/std" ] || fail "rust-web-src" "std sources for rustc $rustc_version are missing at $RUST_LIBRARY_SRC: install Debian's rust-web-src"
command -v rust-lld >/dev/null || fail "lld-22" "rust-lld (the wasm linker) is not on PATH: install Debian's lld-22"
command -v chromium >/dev/null || fail "chromium" "chromium is not on PATH: install Debian's chromium"

# 2. The wasm32 standard library, built once from the Debian sources into the toolchain's sysroot.
sysroot=$("$WASM_RUSTC" --print sysroot)
std_dir="$sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
std_stamp="$std_dir/.seqwasm-std-$rustc_version"
if [ ! -f "$std_stamp" ]; then
  [ -w "$sysroot/lib" ] || fail "wasm32 std" "$std_dir is not writable: run set-up as root once"
  work="$LOG_DIR/std"
  mkdir -p "$work/src"
  printf '[package]\nname = "std-for-wasm32"\nversion = "0.0.0"\nedition = "2021"\n[lib]\ncrate-type = ["cdylib"]\n[workspace]\n' >"$work/Cargo.toml"
  echo 'pub fn touch() -> usize { std::vec![1u8].len() }' >"$work/src/lib.rs"
  # std's own dependencies are vendored next to its sources: use them, for this build only.
  printf '[source.crates-io]\nreplace-with = "std-vendor"\n[source.std-vendor]\ndirectory = "%s/vendor"\n' "$RUST_LIBRARY_SRC" >"$work/vendor.toml"
  run "wasm32 std (build from rust-web-src, about a minute)" "building std for wasm32 failed" \
    env -C "$work" RUSTC="$WASM_RUSTC" RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C target-feature=+simd128" \
    "$WASM_CARGO" build --config vendor.toml --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
  mkdir -p "$std_dir"
  rm -f "$std_dir"/lib*.rlib "$std_dir"/.seqwasm-std-*
  cp "$work"/target/wasm32-unknown-unknown/release/deps/lib*.rlib "$std_dir/"
  touch "$std_stamp"
fi

# 3. wasm-bindgen's CLI at exactly the version in Cargo.lock, and wasm-pack.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
[ -n "$wbg_version" ] || fail "wasm-bindgen-cli" "Cargo.lock names no wasm-bindgen version"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  command -v cargo >/dev/null || fail "wasm-bindgen-cli" "no cargo on PATH to install it with"
  run "cargo install wasm-bindgen-cli $wbg_version (a few minutes)" "the crate registry could not be reached or the build failed" \
    cargo install --locked --force wasm-bindgen-cli --version "$wbg_version"
fi
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  run "cargo install wasm-pack $WASM_PACK_VERSION (a few minutes)" "the crate registry could not be reached or the build failed (it needs pkg-config and libssl-dev)" \
    cargo install --locked --force wasm-pack --version "$WASM_PACK_VERSION"
fi

# 4. npm packages, reinstalled only when the lock file changed.
lock_sum=$(sha256sum package-lock.json | cut -c1-64)
if [ "$(cat node_modules/.seqwasm-lock 2>/dev/null)" != "$lock_sum" ]; then
  run "npm ci" "the npm registry could not be reached or package-lock.json is out of date" \
    env ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  echo "$lock_sum" >node_modules/.seqwasm-lock
fi

echo "setup: ready (rustc $rustc_version for wasm32, wasm-bindgen $wbg_version, wasm-pack $WASM_PACK_VERSION, $(chromium --version 2>/dev/null | head -n1))"
