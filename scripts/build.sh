#!/usr/bin/env bash
# Builds the package: four wasm flavours with wasm-pack, then the TypeScript facade into dist/.
#   pkg/simd            simd128, one thread
#   pkg/threads         simd128 + atomics + bulk-memory, shared memory, std rebuilt with build-std
#   pkg/relaxed         simd + relaxed-simd (fused multiply-add), opt-in
#   pkg/relaxedThreads  threads + relaxed-simd, opt-in
#   dist/node     ESM for Node (worker_threads)      dist/browser  ESM for browsers (module Workers)
#   dist/wasm     the four optimised .wasm files      dist/types    .d.ts of the public API
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian toolchain has the wasm32 std that set-up installed; rustup's does not.
export PATH="/usr/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export RUSTC=/usr/bin/rustc

simd_features="+simd128"
# Since Rust 1.9x +atomics no longer implies a shared memory: ask the linker for it, and export
# the TLS symbols wasm-bindgen needs to start threads.
threads_link="--shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base"

build_flavour() {
  local flavour=$1 rustflags=$2
  shift 2
  echo "build: wasm ($flavour)"
  CARGO_TARGET_DIR="$PWD/target/wasm-$flavour" RUSTFLAGS="$rustflags" \
    wasm-pack --quiet build crates/wasm --release --target web --no-pack --no-opt \
    --out-dir "../../pkg/$flavour" --out-name seqwasm "$@"
  # wasm-pack's own wasm-opt would download binaryen; npm's binaryen is already here.
  # LLVM leaves `p + 16` as an add before each load, which V8 computes in an integer register;
  # as the load's offset it is part of the x64 address. Rust's pointers never wrap around
  # memory, the one case where the two differ, so folding them is safe: the GEMM kernel went
  # from 90% to 99% of the same loop compiled natively (best times), W2 and W3 up to 5% faster.
  npx --no-install wasm-opt -O3 --low-memory-unused --optimize-added-constants-propagate \
    "pkg/$flavour/seqwasm_bg.wasm" -o "pkg/$flavour/seqwasm_bg.wasm"
}

link_args=""
for arg in $threads_link; do link_args+=" -C link-arg=$arg"; done
build_threads() {
  RUSTC_BOOTSTRAP=1 build_flavour "$1" "-C target-feature=$2,+atomics,+bulk-memory,+mutable-globals$link_args" \
    -- --features threads -Zbuild-std=std,panic_abort
}
build_flavour simd "-C target-feature=$simd_features"
build_threads threads "$simd_features"
build_flavour relaxed "-C target-feature=$simd_features,+relaxed-simd"
build_threads relaxedThreads "$simd_features,+relaxed-simd"

echo "build: typescript"
rm -rf dist
npx --no-install tsc -p tsconfig.json
mkdir -p dist/wasm
for flavour in simd threads relaxed relaxedThreads; do
  cp "pkg/$flavour/seqwasm_bg.wasm" "dist/wasm/seqwasm-$flavour.wasm"
done
for platform in node browser; do
  npx --no-install esbuild "ts/$platform/index.ts" "ts/$platform/worker.ts" "ts/$platform/pool-thread.ts" \
    --bundle --format=esm --splitting --platform="$platform" --target=es2022 \
    --outdir="dist/$platform" --entry-names='[name]' --chunk-names='[name]-[hash]' \
    --log-level=warning
done
echo "build: done"
