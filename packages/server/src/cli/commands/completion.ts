import type { CliCommand } from '../CliIo.js';
import { CLIENT_FLAGS, COMMAND_TREE, type CommandInfo } from '../commandTree.js';
import { reportError } from '../reportError.js';

const HELP = `usage: nexus-control completion bash|zsh|fish

Prints a shell completion script for commands, subcommands and flags. To load it:

  bash  source <(nexus-control completion bash)          (e.g. in ~/.bashrc)
  zsh   source <(nexus-control completion zsh)           (e.g. in ~/.zshrc, after compinit)
  fish  nexus-control completion fish > ~/.config/fish/completions/nexus-control.fish`;

function flagsOf(info: CommandInfo, sub?: string): string[] {
  const own = sub === undefined ? info.flags : [...info.flags, ...(info.subcommands?.[sub] ?? [])];
  return [...own, ...(info.client ? CLIENT_FLAGS : []), '--help'];
}

/** `command` or `command sub` → the words that may follow. */
function table(): { key: string; words: string[] }[] {
  const rows = [{ key: '', words: Object.keys(COMMAND_TREE) }];
  for (const [name, info] of Object.entries(COMMAND_TREE)) {
    if (name === 'help') rows.push({ key: name, words: Object.keys(COMMAND_TREE).filter((n) => n !== 'help') });
    else if (name === 'completion') rows.push({ key: name, words: ['bash', 'zsh', 'fish'] });
    else if (info.subcommands) {
      rows.push({ key: name, words: Object.keys(info.subcommands) });
      for (const sub of Object.keys(info.subcommands)) rows.push({ key: `${name} ${sub}`, words: flagsOf(info, sub) });
    } else rows.push({ key: name, words: flagsOf(info) });
  }
  return rows;
}

function bash(): string {
  const cases = table()
    .map(({ key, words }) => `    '${key}') words='${words.join(' ')}' ;;`)
    .join('\n');
  return `# bash completion for nexus-control
_nexus_control() {
  local cur=\${COMP_WORDS[COMP_CWORD]} key='' i word words
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    case "$key" in
      '') key=$word ;;
      *' '*) ;;
      *) case " $(_nexus_control_words "$key") " in *" $word "*) key="$key $word" ;; esac ;;
    esac
  done
  if [[ $cur != -* && -n $key && $(_nexus_control_words "$key") == -* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_nexus_control_words "$key")" -- "$cur"))
  fi
}
_nexus_control_words() {
  local words=''
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o default -F _nexus_control nexus-control
`;
}

function zsh(): string {
  return `#compdef nexus-control
# zsh completion for nexus-control (uses the bash completion through bashcompinit)
autoload -U +X bashcompinit && bashcompinit
${bash()}`;
}

function fish(): string {
  const lines = ['# fish completion for nexus-control', 'complete -c nexus-control -f'];
  const top = Object.keys(COMMAND_TREE);
  for (const name of top) {
    lines.push(`complete -c nexus-control -n '__fish_use_subcommand' -a ${name} -d '${COMMAND_TREE[name]!.summary.replace(/'/g, '')}'`);
  }
  for (const { key, words } of table()) {
    if (key === '') continue;
    const [command, sub] = key.split(' ');
    const condition =
      sub === undefined
        ? `__fish_seen_subcommand_from ${command}`
        : `__fish_seen_subcommand_from ${command}; and __fish_seen_subcommand_from ${sub}`;
    const subs = words.filter((word) => !word.startsWith('-'));
    const flags = words.filter((word) => word.startsWith('-')).map((flag) => flag.slice(2));
    if (subs.length > 0) lines.push(`complete -c nexus-control -n '${condition}' -a '${subs.join(' ')}'`);
    for (const flag of flags) lines.push(`complete -c nexus-control -n '${condition}' -l ${flag}`);
  }
  return lines.join('\n') + '\n';
}

const SHELLS: Readonly<Record<string, () => string>> = { bash, zsh, fish };

export const completion: CliCommand = async (argv, io) => {
  const [shell, ...extra] = argv;
  if (shell === '--help' || shell === '-h') {
    io.out(HELP);
    return 0;
  }
  const script = shell === undefined ? undefined : SHELLS[shell];
  if (!script || extra.length > 0) {
    reportError(
      io,
      'USAGE',
      shell === undefined
        ? 'completion needs a shell: bash, zsh or fish'
        : `unknown shell '${[shell, ...extra].join(' ')}': use bash, zsh or fish`,
    );
    return 2;
  }
  io.out(script());
  return 0;
};
