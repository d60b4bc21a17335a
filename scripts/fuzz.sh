#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 300), growing
# the committed corpus in fuzz/corpus/<target>/; a crash stops the run, its input saved under
# target/fuzz/artifacts/<target>/ (`scripts/fuzz.sh --smoke` runs a short pass over a copy of the
# corpus, as `make test` does). FUZZ_TARGETS picks targets (default: all).
#
# libFuzzer needs a nightly compiler's flags: the nightly toolchain where rustup has one, else
# the stable one with RUSTC_BOOTSTRAP=1 (the same flags, allowed on a stable compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
# The fuzz targets build with sanitizer flags and maybe another toolchain: not through the clippy
# wrapper the Makefile sets for the workspace's build.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
seconds=${FUZZ_SECONDS:-300}
smoke=
if [[ ${1:-} == --smoke ]]; then smoke=1; seconds=${FUZZ_SECONDS:-15}; fi
cargo_fuzz=.tools/bin/cargo-fuzz
export PATH="$PWD/.tools/bin:$PATH"
[[ -x $cargo_fuzz ]] || cargo install --locked --quiet --root .tools cargo-fuzz --version 0.13.2
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
targets=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^fuzz$')}
out=target/fuzz
mkdir -p "$out"
# One build of every target (debug assertions on, address sanitizer), in the workspace's target dir.
cargo "${toolchain[@]}" fuzz build --fuzz-dir fuzz --target-dir "$out/build" --debug-assertions >/dev/null
for t in $targets; do
  corpus=fuzz/corpus/$t
  if [[ -n $smoke ]]; then
    rm -rf "$out/smoke/$t"; mkdir -p "$out/smoke/$t"; cp -r "$corpus/." "$out/smoke/$t/"
    corpus=$out/smoke/$t
  fi
  mkdir -p "$out/artifacts/$t"
  log=$out/$t.log
  echo "fuzz $t: ${seconds}s over $(ls "$corpus" | wc -l) corpus inputs"
  if ! cargo "${toolchain[@]}" fuzz run --fuzz-dir fuzz --target-dir "$out/build" --debug-assertions "$t" "$corpus" -- \
      -max_total_time="$seconds" -artifact_prefix="$out/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz $t: FAILED; the crashing input is in $out/artifacts/$t/, the log in $log" >&2
    exit 1
  fi
  # libFuzzer's closing statistics: executions and their rate, the corpus it ended with.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  echo "fuzz $t: ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l), no crash"
done
