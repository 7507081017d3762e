# bash completion for shmkit. Installed as
# $(PREFIX)/share/bash-completion/completions/shmkit.
#
# Subcommands come from 'shmkit --help' and each subcommand's options from
# 'shmkit CMD --help', so this file never falls behind the command. Names
# for -n, send, recv, pub and sub come from 'shmkit ls --json'. It serves
# shmkit-bridge too (installed under that name as well): its directions
# out and in, their options, and channel names from 'shmkit ls --json'.

# The names of every shmkit segment on the system (channels among them).
_shmkit_names()
{
	local prog=${1:-shmkit}
	[[ $prog == *shmkit-bridge ]] && prog=${prog%-bridge}
	"$prog" ls --json 2>/dev/null |
		sed -n 's/.*"name": "\([A-Za-z0-9._-]*\)".*/\1/p'
}

_shmkit()
{
	local cur prev cmd prog i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	prog=${COMP_WORDS[0]}
	COMPREPLY=()

	# the subcommand: the first word after the program that is not an option
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null |
				sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')" -- "$cur"))
		fi
		return 0
	fi

	# top's -n is a count, and its -m takes a name (a pattern)
	if [[ $cmd == top ]]; then
		case $prev in
		-n|--count|-i|--interval)
			return 0 ;;
		-s|--sort)
			COMPREPLY=($(compgen -W 'msgs bytes fill lag name' -- "$cur"))
			return 0 ;;
		-m|--match)
			COMPREPLY=($(compgen -W "$(_shmkit_names "$prog")" -- "$cur"))
			return 0 ;;
		esac
	fi

	case $prev in
	-n|--name)
		COMPREPLY=($(compgen -W "$(_shmkit_names "$prog")" -- "$cur"))
		return 0 ;;
	-p|--path|--plot|--save)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--root)
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0 ;;
	--policy)
		COMPREPLY=($(compgen -W 'block overwrite' -- "$cur"))
		return 0 ;;
	--from)
		COMPREPLY=($(compgen -W 'oldest next' -- "$cur"))
		return 0 ;;
	--creds)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--delivery)
		COMPREPLY=($(compgen -W 'core jetstream' -- "$cur"))
		return 0 ;;
	-s|--server)
		[[ $prog == *shmkit-bridge ]] && return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("$prog" "$cmd" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur"))
		return 0
	fi
	case $cmd in
	send|recv|pub|sub|out|in)
		COMPREPLY=($(compgen -W "$(_shmkit_names "$prog")" -- "$cur")) ;;
	esac
	return 0
}

complete -F _shmkit shmkit shmkit-bridge
