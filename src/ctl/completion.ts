import type { Command } from "./commands.js";
import { rpcNames } from "./rpc-catalog.js";
import { signalNames } from "./signal-names.js";
import { GLOBAL_OPTIONS } from "./usage.js";

const long = (options: readonly { name: string }[]) => options.map((o) => `--${o.name}`).join(" ");

/** A bash completion script: commands, options, RPC names after `call`, signals after `kill ID`. */
export function completionScript(commands: readonly Command[]): string {
  const valued = [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)]
    .filter((o) => o.kind !== "flag")
    .flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
  const optionCases = commands.map((c) => `      ${c.name}) opts="${long(c.options)}" ;;`).join("\n");
  return `# bash completion for berthctl: source <(berthctl completion bash)
_berthctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local globals="${long(GLOBAL_OPTIONS)}"
  case $prev in
    --rootfs|--cwd|-w) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    ${[...new Set(valued)].filter((o) => !["--rootfs", "--cwd", "-w"].includes(o)).join("|")}) return ;;
  esac
  local i cmd="" args=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --) [[ -n $cmd ]] && return ;;
      ${[...new Set(valued)].join("|")}) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=\${COMP_WORDS[i]}; else ((args++)); fi ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} $globals" -- "$cur"))
    return
  fi
  local opts=""
  case $cmd in
${optionCases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
    return
  fi
  case $cmd:$args in
    call:0) COMPREPLY=($(compgen -W "${rpcNames().join(" ")}" -- "$cur")) ;;
    kill:1) COMPREPLY=($(compgen -W "${signalNames().join(" ")}" -- "$cur")) ;;
    completion:0) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
  esac
}
complete -o default -F _berthctl berthctl
`;
}
