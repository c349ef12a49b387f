# bash completion for boxmon
_boxmon() {
    local cur prev words cword
    _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
    local commands="run sample status query export alerts alert metrics rules db report sysinfo config"
    local global="--config --state-dir --log-level --help --version"
    case $prev in
        --config|--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --log-level) COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "csv json text markdown" -- "$cur")); return ;;
    esac
    local cmd="" sub="" w
    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case $w in -*) ;; *) if [ -z "$cmd" ]; then cmd=$w; elif [ -z "$sub" ]; then sub=$w; fi ;; esac
    done
    case $cmd in
        "") COMPREPLY=($(compgen -W "$commands $global" -- "$cur")) ;;
        run) COMPREPLY=($(compgen -W "--print --help" -- "$cur")) ;;
        sample) COMPREPLY=($(compgen -W "--print --json --help" -- "$cur")) ;;
        status) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
        query) COMPREPLY=($(compgen -W "--since --step --json --help" -- "$cur")) ;;
        export) COMPREPLY=($(compgen -W "--format --since --help" -- "$cur")) ;;
        alerts) COMPREPLY=($(compgen -W "--since --json --help" -- "$cur")) ;;
        alert) [ -z "$sub" ] && COMPREPLY=($(compgen -W "test" -- "$cur")) || COMPREPLY=($(compgen -W "--channel --help" -- "$cur")) ;;
        metrics) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
        rules) [ -z "$sub" ] && COMPREPLY=($(compgen -W "backtest" -- "$cur")) || COMPREPLY=($(compgen -W "--since --rule --json --help" -- "$cur")) ;;
        db) [ -z "$sub" ] && COMPREPLY=($(compgen -W "salvage" -- "$cur")) || COMPREPLY=($(compgen -f -- "$cur")) ;;
        report) COMPREPLY=($(compgen -W "--since --out --stdout --format --help" -- "$cur")) ;;
        sysinfo) COMPREPLY=($(compgen -W "--out --help" -- "$cur")) ;;
        config) COMPREPLY=($(compgen -W "check show" -- "$cur")) ;;
    esac
}
complete -F _boxmon boxmon
