# Shared by the end-to-end test scripts (zstd's cli-tests style): each case is a command, the exit
# code it must return, and a pattern its output (stdout and stderr together) must contain.
# Source it, run `check` cases, then `finish NAME`. $tmp is a scratch directory, removed at exit;
# $out is the file each case's output goes to (a script must not use the name for its own loops).
passed=0 failed=0
out=$(mktemp) tmp=$(mktemp -d)
trap 'rm -rf "$out" "$tmp"' EXIT

# check NAME EXIT_CODE EXTENDED_REGEX -- COMMAND...
check() {
  local name=$1 want=$2 pattern=$3
  shift 4
  "$@" >"$out" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/  | /' "$out" | tail -5; failed=$((failed + 1)); return
  fi
  if ! grep -Eq -- "$pattern" "$out"; then
    echo "FAIL $name: output lacks /$pattern/"; sed 's/^/  | /' "$out" | tail -5; failed=$((failed + 1)); return
  fi
  echo "ok   $name"; passed=$((passed + 1))
}

# assert NAME CONDITION_COMMAND... : a case that passes when the command succeeds.
assert() {
  local name=$1
  shift
  if "$@" >"$out" 2>&1; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name: $*"; sed 's/^/  | /' "$out" | tail -5; failed=$((failed + 1))
  fi
}

finish() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
