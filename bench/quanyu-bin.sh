# Sourced by bench/*/run.sh from the repository's root: sets BIN to the quanyu binary under test —
# $QUANYU_BIN when given (an earlier build, to compare two builds back to back in one sitting),
# else a release build of this tree.
if [ -n "${QUANYU_BIN:-}" ]; then
  BIN=$(realpath "$QUANYU_BIN")
else
  cargo build --release -q -p quanyu
  BIN=$PWD/target/release/quanyu
fi
echo "quanyu under test: $BIN" >&2
