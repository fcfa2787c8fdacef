# Bash completion for kcb-train, kcb-inspect and kcb-restore (installed under each name in
# share/bash-completion/completions). Flags and subcommands are read from the tools' own --help,
# so they never disagree with it; `kcb-inspect ... --tag` completes the tags of the LOGDIR given.

# The flags a tool's help names anywhere ("  -o, --output FILE", "[--run NAME]...", "--color,
# --no-color"): --word, or - and one letter, after a space, '[', ',' or a line's start.
_kcb_flags() {
  "$@" --help 2>/dev/null | grep -oE -- '(^|[][ ,(])(-[a-z]|--[a-z][a-z0-9-]*)([^a-z0-9-]|$)' |
    sed -E 's/^[][ ,(]//; s/[^a-z0-9-]$//' | sort -u
}

# The flags a tool's help shows with a value ("  --epochs N   ..."), one per line.
_kcb_value_flags() {
  "$@" --help 2>/dev/null | sed -nE 's/^  (-[a-z], )?(--[a-z][a-z0-9-]*) [^ ].*/\2/p'
}

# File or directory names (-f or -d), one a line: a name with spaces stays one candidate, and bash
# quotes it (and adds '/' to a directory) as it does for its own file completion.
_kcb_paths() {
  compopt -o filenames 2>/dev/null
  mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen "$1" -- "$cur")
}

_kcb_train() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --loss) COMPREPLY=($(compgen -W "mse mae binary_crossentropy categorical_crossentropy sparse_categorical_crossentropy" \
      -- "$cur")); return ;;
    --model) COMPREPLY=($(compgen -W "mlp cnn" -- "$cur")); return ;;
    --metrics) # a comma-separated list: the name after the last comma
      local done=""
      [[ $cur == *,* ]] && done=${cur%,*},
      COMPREPLY=($(compgen -P "$done" -W "accuracy mse mae binary_accuracy categorical_accuracy sparse_categorical_accuracy" \
        -- "${cur##*,}")); return ;;
    --data|--logdir|--backup-dir) COMPREPLY=(); _kcb_paths -d; return ;;
    --csv|--config|--initial-weights|--save|--checkpoint) COMPREPLY=(); _kcb_paths -f; return ;;
    --mode) COMPREPLY=($(compgen -W "auto min max" -- "$cur")); return ;;
    --optimizer) COMPREPLY=($(compgen -W "sgd rmsprop adam adamw" -- "$cur")); return ;;
    --lr-schedule) COMPREPLY=($(compgen -W "step exponential cosine warmup" -- "$cur")); return ;;
    --update-freq) COMPREPLY=($(compgen -W "epoch batch" -- "$cur")); return ;;
    --histogram-format) COMPREPLY=($(compgen -W "proto tensor" -- "$cur")); return ;;
    --save-freq|--backup-freq) COMPREPLY=($(compgen -W "epoch" -- "$cur")); return ;;
    --on-write-error) COMPREPLY=($(compgen -W "stop warn" -- "$cur")); return ;;
    --verbose) COMPREPLY=($(compgen -W "0 1 2" -- "$cur")); return ;;
  esac
  if [[ $prev == --* ]] && _kcb_value_flags "${COMP_WORDS[0]}" | grep -qx -- "$prev"; then
    COMPREPLY=() # a number or a name of the user's: nothing to offer, and no flag in its place
    return
  fi
  COMPREPLY=($(compgen -W "$(_kcb_flags "${COMP_WORDS[0]}")" -- "$cur"))
}

_kcb_restore() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --mode) COMPREPLY=($(compgen -W "auto min max" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "weights.h5 h5 keras legacy_weights.h5" -- "$cur")); return ;;
    --csv|--output|-o|--template) COMPREPLY=(); _kcb_paths -f; return ;;
    --monitor) COMPREPLY=(); return ;; # a logged name of the user's: no file names
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_kcb_flags "${COMP_WORDS[0]}")" -- "$cur"))
  else
    COMPREPLY=(); _kcb_paths -f
  fi
}

_kcb_inspect() {
  local cur prev tool=${COMP_WORDS[0]}
  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  # options may come before the command or path (kcb-inspect --json FILE): it is the first other
  # word, past the values of the options that take one (all but these flags)
  local at=1 flags=" --json --quiet --buckets --config --desc --sessions --term --sparkline --no-raw --log-y --color --no-color --help -h "
  while [ "$at" -lt "$COMP_CWORD" ] && [[ ${COMP_WORDS[at]} == -* && ${COMP_WORDS[at]} != -- ]]; do
    # --name=value and -oFILE carry their value
    if [[ ${COMP_WORDS[at]} == *=* || ${COMP_WORDS[at]} == -[!-]?* || $flags == *" ${COMP_WORDS[at]} "* ]]; then
      at=$((at + 1))
    else at=$((at + 2)); fi
  done
  if [ "$at" -gt "$COMP_CWORD" ]; then COMPREPLY=(); return; fi # a leading option's value: a number or a name
  if [ "$at" -eq "$COMP_CWORD" ]; then
    local commands
    commands=$("$tool" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--json --jobs --help --version" -- "$cur")); return; fi
    COMPREPLY=($(compgen -W "$commands help" -- "$cur"))
    # a path alone is shown by the command for its kind (kcb-inspect PATH)
    [[ ${#COMPREPLY[@]} -eq 0 || $cur == */* || $cur == .* ]] && _kcb_paths -f
    return
  fi
  local cmd=${COMP_WORDS[at]} # a command, or a path whose command kcb-inspect picks (its --help lists the flags)
  if [ "$cmd" = help ]; then
    COMPREPLY=($(compgen -W "$("$tool" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')" -- "$cur"))
    return
  fi
  case $prev in
    --tag|--run)
      local logdir="" w kind='[^"]*' pattern
      for w in "${COMP_WORDS[@]:at}"; do
        [[ $w != -* && -e $w ]] && { logdir=$w; break; }
      done
      [ -n "$logdir" ] || return
      case $cmd in # the tags the command shows
        scalars|plot|diff) kind=scalar ;; histograms) kind=histogram ;; images) kind=image ;; audio) kind=audio ;; text) kind=text ;;
      esac
      if [ "$prev" = --tag ]; then pattern="s/.*{\"tag\": \"\([^\"]*\)\", \"plugin\": \"[^\"]*\", \"kind\": \"$kind\".*/\1/p"
      else pattern='s/^  {"name": "\([^"]*\)".*/\1/p'; fi
      # one name a line, quoted for the shell: tags hold spaces ("pr_curves/Ankle boot")
      local name
      while IFS= read -r name; do
        [[ $name == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
      done < <("$tool" runs "$logdir" --json 2>/dev/null | sed -n "$pattern" | sort -u)
      return ;;
    -o|--output) COMPREPLY=(); _kcb_paths -f; return ;;
  esac
  if [[ $prev == --* ]] && _kcb_value_flags "$tool" "$cmd" | grep -qx -- "$prev"; then
    # the command's own values: --format's words, else a number or a name of the user's
    [ "$prev" = --format ] && COMPREPLY=($(compgen -W "table csv json" -- "$cur")) || COMPREPLY=()
    return
  fi
  if [[ $cur == -* ]]; then # every command also takes --json, --jobs and --help (kcb-inspect --help)
    COMPREPLY=($(compgen -W "$( (_kcb_flags "$tool" "$cmd"; printf '%s\n' --json --jobs --help) | sort -u)" -- "$cur"))
  else
    COMPREPLY=(); _kcb_paths -f
  fi
}

complete -F _kcb_train kcb-train
complete -F _kcb_restore kcb-restore
complete -F _kcb_inspect kcb-inspect
