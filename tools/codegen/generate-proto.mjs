#!/usr/bin/env node
// Generates the TypeScript client code and the FileDescriptorSet from proto/.
//
//   node tools/codegen/generate-proto.mjs [outDir]
//
// outDir defaults to packages/client/src/gen (the committed output); the no-diff test
// passes a temporary directory and compares the two byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, 'packages', 'client', 'src', 'gen'));
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** Every .proto under dir, as paths relative to dir, sorted so the output is stable. */
function protoFiles(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return protoFiles(dir, path);
      return entry.name.endsWith('.proto') ? [path] : [];
    })
    .sort();
}

const protoDir = join(root, 'proto');
const files = protoFiles(protoDir);
// The health service is served next to ours; its descriptor goes into the set so that
// reflection describes it too. Only the descriptor set includes it, not the TypeScript.
const healthDir = join(root, 'node_modules', 'grpc-health-check', 'proto');
const healthFile = 'health/v1/health.proto';

const tsProtoOptions = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'env=node',
  'useExactTypes=false',
  'importSuffix=.js',
  'forceLong=string',
  'useOptionals=messages',
  'useDate=false',
  'annotateFilesWithVersion=false',
].join(',');

function protoc(args) {
  const run = spawnSync(bin('protoc'), args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(`protoc failed (exit ${run.status ?? run.signal})\n`);
    process.exit(1);
  }
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

protoc([
  `--plugin=protoc-gen-ts_proto=${bin('protoc-gen-ts_proto')}`,
  `--ts_proto_out=${outDir}`,
  `--ts_proto_opt=${tsProtoOptions}`,
  '-I',
  relative(root, protoDir),
  ...files,
]);

protoc([
  '--include_imports',
  '--include_source_info',
  `--descriptor_set_out=${join(outDir, 'descriptor_set.binpb')}`,
  '-I',
  relative(root, protoDir),
  '-I',
  relative(root, healthDir),
  ...files,
  healthFile,
]);

process.stdout.write(`generated ${files.length} proto files into ${relative(root, outDir) || '.'}\n`);
