import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** P-256 key options of `openssl req`, writing `<name>.key` unencrypted. */
const newKey = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`];

/**
 * Test certificates made with the `openssl` command in `dir`, valid for two days: `<name>.key`
 * and `<name>.crt` per call. `extensions` is an extension file's text (say
 * `subjectAltName=DNS:localhost`).
 */
export function certificatesIn(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const extensionFile = (name: string, extensions: string | undefined) => {
    if (extensions === undefined) return [];
    writeFileSync(join(dir, `${name}.ext`), extensions);
    return ['-extfile', `${name}.ext`];
  };
  return {
    /** A self-signed certificate: a CA, or a server that is its own. */
    selfSigned(name: string, subject: string, extension?: string): void {
      openssl(
        'req',
        '-x509',
        ...newKey(name),
        '-subj',
        subject,
        ...(extension ? ['-addext', extension] : []),
        '-days',
        '2',
        '-out',
        `${name}.crt`,
      );
    },
    /** A certificate for `subject` issued by the CA `ca` (its `.crt` and `.key` in `dir`). */
    issue(name: string, subject: string, ca: string, extensions?: string): void {
      openssl('req', ...newKey(name), '-subj', subject, '-out', `${name}.csr`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${ca}.crt`,
        '-CAkey',
        `${ca}.key`,
        '-CAcreateserial',
        '-days',
        '2',
        ...extensionFile(name, extensions),
        '-out',
        `${name}.crt`,
      );
    },
  };
}
