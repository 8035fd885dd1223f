# bash completion for mgrctl: verbs, each verb's options, type names
# (mgrctl types) and object names (mgrctl ls --names) from the manager
# that MGR_SOCKET or -s names. Installed as
# share/bash-completion/completions/mgrctl.
_mgrctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local verbs="info ls show call create rm types methods clients stats monitor shutdown save dump load help"
	local -a global=()
	local i verb="" nth=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s | --socket | -t | --timeout)
			global+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}")
			((i++)) ;;
		-*) ;;
		*)
			if [[ -z $verb ]]; then verb=${COMP_WORDS[i]}; else ((nth++)); fi ;;
		esac
	done
	case $prev in
	-s | --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--type) COMPREPLY=($(compgen -W "$(mgrctl "${global[@]}" types 2>/dev/null)" -- "$cur")); return ;;
	--object) COMPREPLY=($(compgen -W "$(mgrctl "${global[@]}" ls --names 2>/dev/null)" -- "$cur")); return ;;
	-t | --timeout | --limit | --mode | --method | --pid | --width) return ;;
	esac
	if [[ -z $verb ]]; then
		COMPREPLY=($(compgen -W "$verbs -s --socket --json --timeout --help --version" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		local opts="--json --timeout"
		case $verb in
		ls) opts+=" --type --names" ;;
		show) opts+=" --limit" ;;
		create) opts+=" --mode" ;;
		rm) opts+=" --force" ;;
		monitor) opts+=" --object --type --method --pid --width" ;;
		load) opts+=" --replace" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $verb in
	show | call | rm | dump)
		if [[ $verb == dump || $nth == 0 ]]; then
			COMPREPLY=($(compgen -W "$(mgrctl "${global[@]}" ls --names 2>/dev/null) #0" -- "$cur"))
		fi ;;
	create | methods)
		[[ $nth == 0 ]] && COMPREPLY=($(compgen -W "$(mgrctl "${global[@]}" types 2>/dev/null)" -- "$cur")) ;;
	load) COMPREPLY=($(compgen -f -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "$verbs" -- "$cur")) ;;
	esac
}
complete -F _mgrctl mgrctl
