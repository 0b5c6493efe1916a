import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/CliIo.js';
import { parseDuration } from '../src/cli/client/clientOptions.js';
import { CLIENT_FLAGS, COMMAND_TREE } from '../src/cli/commandTree.js';
import { main } from '../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const packageVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('the nexus-control command line', () => {
  it('--version, -V and version print the package version', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      expect(await run(flag)).toEqual({ code: 0, out: `nexus-control ${packageVersion}`, err: '' });
    }
    expect(JSON.parse((await run('--version', '--json')).out)).toEqual({ version: packageVersion });
  });

  it('help COMMAND [SUBCOMMAND] prints the same text as --help', async () => {
    expect(await run('help', 'approve')).toEqual(await run('approve', '--help'));
    expect(await run('help', 'decision', 'create')).toEqual(await run('decision', 'create', '--help'));
    expect((await run('help')).out).toContain('usage: nexus-control <command>');
  });

  it('suggests the command that a mistyped one was meant to be', async () => {
    expect(await run('aprove', 'dec_1')).toEqual({
      code: 2,
      out: '',
      err: "error [USAGE]: unknown command 'aprove'\ndid you mean 'nexus-control approve'?",
    });
    expect((await run('decision', 'lsit')).err).toBe(
      "error [USAGE]: unknown subcommand 'decision lsit'\ndid you mean 'nexus-control decision list'?",
    );
    expect((await run('frobnicate')).err).toBe(
      "error [USAGE]: unknown command 'frobnicate'\nrun 'nexus-control --help' for the list of commands",
    );
  });

  it('reports errors as one JSON object on stderr with --json', async () => {
    const result = await run('verify', 'missing-file.json', '--json');
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(JSON.parse(result.err)).toEqual({ error: { code: 'USAGE', message: expect.stringContaining('missing-file.json') } });
  });

  it('refuses the old --key, --ca and --cert and names what replaced them', async () => {
    const key = await run('sign', 'audit.json', '--key', 'a.key');
    expect(key.code).toBe(2);
    expect(key.err).toBe(
      'error [USAGE]: --key was renamed so that each flag means one thing: use --signing-key (sign), --public-key (verify) or --tls-key (client commands)',
    );
    expect((await run('decision', 'list', '--ca=ca.pem')).err).toBe(
      'error [USAGE]: --ca was renamed so that each flag means one thing: use --tls-ca',
    );
  });

  it('durations need a unit: a bare number is refused', async () => {
    expect(parseDuration('8h', '--expires-in')).toBe(8 * 3_600_000);
    expect(parseDuration('500ms', '--timeout')).toBe(500);
    expect(parseDuration('1.5m', '--timeout')).toBe(90_000);
    expect(parseDuration('0', '--timeout')).toBe(0);
    expect(() => parseDuration('8', '--expires-in')).toThrow("--expires-in '8' is not a duration: give a unit, e.g. 8s, 8m or 8h");
    expect(() => parseDuration('8 hours', '--expires-in')).toThrow(/is not a duration/);
    const result = await run('approve', 'dec_1', '--expires-in', '8');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^error \[USAGE\]: --expires-in '8' is not a duration: give a unit/);
  });

  it('every flag offered by completion is one the command documents in its help', async () => {
    for (const [name, info] of Object.entries(COMMAND_TREE)) {
      if (['help', 'version', 'completion'].includes(name)) continue;
      const targets = info.subcommands
        ? Object.entries(info.subcommands).map(([sub, flags]) => ({ argv: [name, sub], flags }))
        : [{ argv: [name], flags: [] }];
      for (const target of targets) {
        const help = await run(...target.argv, '--help');
        expect(help.code, target.argv.join(' ')).toBe(0);
        for (const flag of [...info.flags, ...target.flags, ...(info.client ? CLIENT_FLAGS : [])]) {
          expect(help.out, `${target.argv.join(' ')} ${flag}`).toContain(flag);
        }
      }
    }
  });

  it('prints completion scripts that bash, zsh and fish can load', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const result = await run('completion', shell);
      expect(result.code, shell).toBe(0);
      expect(result.out).toContain('nexus-control');
    }
    const bash = (await run('completion', 'bash')).out;
    const check = spawnSync(
      'bash',
      ['-c', `${bash}\nCOMP_WORDS=(nexus-control decision cr); COMP_CWORD=2; _nexus_control; echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8' },
    );
    expect(check.stdout.trim()).toBe('create');
    const flags = spawnSync(
      'bash',
      ['-c', `${bash}\nCOMP_WORDS=(nexus-control approve dec_1 --exp); COMP_CWORD=3; _nexus_control; echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8' },
    );
    expect(flags.stdout.trim()).toBe('--expires-at --expires-in');
    expect((await run('completion', 'tcsh')).err).toBe("error [USAGE]: unknown shell 'tcsh': use bash, zsh or fish");
  });
});
