#!/usr/bin/env node
// The outside-consumer test: packs every published package, installs the tarballs into a new
// project outside the workspace (from npm's cache, without network when it is warm), and checks
//   (a) a plain Node ESM program embeds core + the SQLite store and verifies an audit package,
//   (b) a strict TypeScript consumer (nodenext, skipLibCheck false) compiles and runs with node,
//   (c) the installed nexus-control serves, and the published client calls it.
// better-sqlite3 is not compiled again: the workspace's native build is copied in.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const started = Date.now();
const step = (text) => console.log(`consumer: ${text} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
const run = (command, args, options = {}) =>
  execFileSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const published = rootPackage.workspaces.filter((dir) => !JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private);

const dir = mkdtempSync(join(tmpdir(), 'nexus-consumer-'));
const keep = process.argv.includes('--keep');
let server;
try {
  step('building every package');
  run('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: root });
  copyFileSync(join(root, 'packages/client/src/gen/descriptor_set.binpb'), join(root, 'packages/client/dist/gen/descriptor_set.binpb'));

  step(`packing ${published.join(', ')}`);
  const tarballs = join(dir, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', tarballs, ...published.flatMap((w) => ['--workspace', w])], { cwd: root }),
  );
  for (const entry of packed) {
    const shipped = entry.files.map((file) => file.path);
    const unwanted = shipped.filter((path) => /(^|\/)test\/|\.test\.|tsconfig|tsbuildinfo|vitest\.config/.test(path));
    if (unwanted.length > 0) throw new Error(`${entry.name} ships files a user does not need: ${unwanted.join(', ')}`);
    for (const needed of ['LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']) {
      if (!shipped.includes(needed)) throw new Error(`${entry.name} does not ship ${needed}`);
    }
    const manifest = JSON.parse(
      readFileSync(
        join(
          root,
          published.find((w) => JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).name === entry.name),
          'package.json',
        ),
        'utf8',
      ),
    );
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      if (name.startsWith('@nexus-control/') && !range.startsWith('^'))
        throw new Error(`${entry.name} depends on ${name}@${range}: not a range a registry can satisfy`);
    }
    console.log(`  ${entry.filename}: ${entry.entryCount} files, license ${manifest.license}`);
  }

  const app = join(dir, 'app');
  mkdirSync(app);
  const dependencies = Object.fromEntries(packed.map((entry) => [entry.name, `file:${join(tarballs, entry.filename)}`]));
  const devDependencies = { typescript: rootPackage.devDependencies.typescript, '@types/node': rootPackage.devDependencies['@types/node'] };
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'nexus-consumer', private: true, type: 'module', dependencies, devDependencies }, null, 2),
  );
  for (const file of readdirSync(join(root, 'tools/consumer'))) copyFileSync(join(root, 'tools/consumer', file), join(app, file));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        outDir: 'out',
        types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );

  step('installing the tarballs from the npm cache (no install scripts)');
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    stdio: 'inherit',
  });
  // The same better-sqlite3 version as the workspace's: reuse its native build instead of compiling.
  const version = (path) => JSON.parse(readFileSync(join(path, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
  if (version(app) !== version(root)) throw new Error(`better-sqlite3 ${version(app)} installed, the workspace has ${version(root)}`);
  mkdirSync(join(app, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
  copyFileSync(
    join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
  );

  // Every package, the ones no check below uses too (adapters, PostgreSQL, MongoDB), loads with plain
  // node; the conformance suite is the exception, as it runs only inside vitest (its peer dependency).
  const loadable = packed.map((entry) => entry.name).filter((name) => name !== '@nexus-control/store-conformance');
  run('node', ['--input-type=module', '-e', loadable.map((name) => `await import(${JSON.stringify(name)});`).join('')], { cwd: app });
  console.log(`  ${loadable.join(', ')} load with plain node`);

  step('(a) plain Node ESM: embed core + SQLite, run a decision through the null adapter, verify its audit package');
  console.log('  ' + run('node', ['app.mjs', join(app, 'app.db')], { cwd: app }).trim());

  step('(b) strict TypeScript consumer: tsc (nodenext, skipLibCheck false), then plain node');
  run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: app, stdio: 'inherit' });
  console.log('  ' + run('node', ['out/consumer.js'], { cwd: app }).trim());

  step('(c) the installed nexus-control serves; the published client calls it');
  server = spawn(
    join(app, 'node_modules/.bin/nexus-control'),
    ['serve', '--listen', '127.0.0.1:0', '--store', `sqlite:${join(app, 'server.db')}`],
    {
      cwd: app,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const address = await new Promise((resolveAddress, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 20_000);
    server.stderr.setEncoding('utf8').on('data', (chunk) => {
      log += chunk;
      const ready = /"msg":"listening".*?"address":"([^"]+)"/.exec(log);
      if (ready) {
        clearTimeout(timer);
        resolveAddress(ready[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
  });
  console.log('  ' + run('node', ['client.mjs', address], { cwd: app }).trim());
  const version_ = run(join(app, 'node_modules/.bin/nexus-control'), ['--version'], { cwd: app }).trim();
  console.log(`  ${version_}`);
  step('passed');
} finally {
  server?.kill('SIGTERM');
  if (keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
