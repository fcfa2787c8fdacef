# Shared by tests/cli/inspect_*.sh (zstd's cli-tests style): each case runs one kcb-inspect
# command and states its exit code and its output.
#   check NAME EXIT REGEX -- CMD...          stdout+stderr must contain REGEX (grep -E)
#   check_exact NAME EXIT FILE -- CMD...     stdout must equal tests/data/inspect/FILE byte for byte
#   check_json NAME EXIT CHECK [ARGS] -- CMD...  stdout is JSON that inspect_check.py CHECK accepts
#                                            (its values compared with independent sources)
#   assert NAME CMD...                       CMD succeeds
# Usage: source it with $bin (kcb-inspect), $data (tests/data) and $here (tests/cli) set.
passed=0 failed=0
out=$(mktemp) err=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -f "$out" "$err"; rm -rf "$tmp"' EXIT

report() { # NAME OK MESSAGE
  if [ "$2" = 1 ]; then echo "ok   $1"; passed=$((passed + 1)); return; fi
  echo "FAIL $1: $3"; sed 's/^/  | /' "$out" | tail -8; sed 's/^/  ! /' "$err" | tail -4; failed=$((failed + 1))
}

run_cmd() { # WANT_EXIT CMD... ; sets got
  "$@" >"$out" 2>"$err"
  got=$?
}

check() {
  local name=$1 want=$2 pattern=$3
  shift 4
  run_cmd "$@"
  if [ "$got" -ne "$want" ]; then report "$name" 0 "exit $got, expected $want"; return; fi
  if ! cat "$out" "$err" | grep -Eq -- "$pattern"; then report "$name" 0 "output lacks /$pattern/"; return; fi
  report "$name" 1
}

assert() { # NAME CONDITION_COMMAND...: passes when the command succeeds
  local name=$1
  shift
  run_cmd "$@"
  if [ "$got" -eq 0 ]; then report "$name" 1; else report "$name" 0 "$*"; fi
}

check_exact() {
  local name=$1 want=$2 file=$data/inspect/$3
  shift 4
  run_cmd "$@"
  if [ "$got" -ne "$want" ]; then report "$name" 0 "exit $got, expected $want"; return; fi
  if ! diff -u "$file" "$out" >"$tmp/diff"; then cp "$tmp/diff" "$out"; report "$name" 0 "stdout differs from $3"; return; fi
  report "$name" 1
}

check_json() {
  local name=$1 want=$2 what=() 
  shift 2
  while [ "$1" != "--" ]; do what+=("$1"); shift; done
  shift
  run_cmd "$@"
  if [ "$got" -ne "$want" ]; then report "$name" 0 "exit $got, expected $want"; return; fi
  if ! /usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)' <"$out" 2>"$tmp/json"; then
    cp "$tmp/json" "$err"; report "$name" 0 "stdout is not JSON"; return
  fi
  if ! /usr/bin/python3 "$here/inspect_check.py" "${what[0]}" "$data" "${what[@]:1}" <"$out" >"$tmp/check"; then
    cp "$tmp/check" "$err"; report "$name" 0 "inspect_check.py ${what[*]} failed"; return
  fi
  report "$name" 1
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
