import { cpus, arch, platform, release, totalmem, tmpdir } from 'node:os';

/** One line describing where the figures were measured. */
export function machineLine(): string {
  const cores = cpus();
  const models = [...new Set(cores.map((core) => core.model.trim()))].join(' / ') || 'unknown cpu';
  const memoryGiB = (totalmem() / 2 ** 30).toFixed(1);
  return (
    `machine: ${platform()} ${release()} ${arch()}, ${cores.length} x ${models}, ` +
    `node ${process.version}, ${memoryGiB} GiB RAM, temp dir ${tmpdir()}`
  );
}
