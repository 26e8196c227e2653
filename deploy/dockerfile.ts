/**
 * Replays a Dockerfile without a Docker engine, for tests on machines that cannot run one: each
 * stage gets its own folder standing in for the image's root, WORKDIR maps into it, COPY copies from
 * the build context (with .dockerignore applied) or from an earlier stage's folder, and RUN runs the
 * shell command on the host in the mapped WORKDIR with the stage's ENV (and nothing of the caller's
 * environment but PATH and HOME, as a base image would provide). What a replay cannot show: the base
 * image itself (the host's node and npm stand in), USER (commands run as the caller) and RUN steps
 * that write outside WORKDIR.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

export type Instruction =
  | { kind: 'FROM'; image: string; stage: string; line: number }
  | { kind: 'WORKDIR'; path: string; line: number }
  | { kind: 'ENV'; vars: Record<string, string>; line: number }
  | { kind: 'ARG'; name: string; value?: string; line: number }
  | { kind: 'COPY'; from?: string; sources: string[]; dest: string; line: number }
  | { kind: 'RUN'; command: string; line: number }
  | { kind: 'USER'; user: string; line: number }
  | { kind: 'ENTRYPOINT'; argv: string[]; line: number };

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export class DockerfileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`Dockerfile line ${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** Parses the instructions this project's Dockerfile uses; any other instruction is an error, so the replay never silently skips one. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!;
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + ' ' + lines[++i]!.replace(/^\s*#.*$/, '');
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!match) throw new DockerfileError(start, `cannot parse ${JSON.stringify(logical)}`);
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.trim();
    const instruction = parseInstruction(keyword, rest, start);
    if (instruction.kind === 'FROM') {
      stages.push({ name: instruction.stage, image: instruction.image, instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new DockerfileError(start, `${keyword} before the first FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

function parseInstruction(keyword: string, rest: string, line: number): Instruction {
  switch (keyword) {
    case 'FROM': {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!m) throw new DockerfileError(line, `FROM ${rest}`);
      return { kind: 'FROM', image: m[1]!, stage: m[2] ?? '', line };
    }
    case 'WORKDIR':
      return { kind: 'WORKDIR', path: rest, line };
    case 'ENV': {
      const vars: Record<string, string> = {};
      for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) vars[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
      if (Object.keys(vars).length === 0) throw new DockerfileError(line, `ENV needs KEY=VALUE pairs: ${rest}`);
      return { kind: 'ENV', vars, line };
    }
    case 'ARG': {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
      if (!m) throw new DockerfileError(line, `ARG ${rest}`);
      return { kind: 'ARG', name: m[1]!, value: m[2], line };
    }
    case 'COPY': {
      const words = rest.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift()!;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
        else throw new DockerfileError(line, `COPY flag ${flag} is not replayed`);
      }
      if (words.length < 2) throw new DockerfileError(line, `COPY needs a source and a destination: ${rest}`);
      return { kind: 'COPY', from, sources: words.slice(0, -1), dest: words[words.length - 1]!, line };
    }
    case 'RUN':
      if (rest.startsWith('[')) throw new DockerfileError(line, 'exec-form RUN is not replayed');
      return { kind: 'RUN', command: rest, line };
    case 'USER':
      return { kind: 'USER', user: rest, line };
    case 'ENTRYPOINT': {
      const argv = JSON.parse(rest) as unknown;
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
        throw new DockerfileError(line, 'ENTRYPOINT must be the exec (JSON array) form');
      return { kind: 'ENTRYPOINT', argv, line };
    }
    default:
      throw new DockerfileError(line, `${keyword} is not replayed`);
  }
}

/**
 * .dockerignore's matching (Docker's rules: patterns relative to the context root, `*` within one
 * path segment, `**` across segments, a matched folder excludes everything below it, `!` re-includes,
 * the last matching pattern wins).
 */
export class DockerIgnore {
  private readonly rules: { negate: boolean; re: RegExp }[];

  constructor(text: string) {
    this.rules = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const negate = l.startsWith('!');
        const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
        return { negate, re: globToRegExp(pattern) };
      });
  }

  /** True when the context-relative path (forward slashes) is left out of the build context. */
  excludes(path: string): boolean {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of this.rules) {
      // A rule applies to the path or to any folder above it.
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more folders; a trailing `**` anything.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Copies the files `files` (context-relative, forward slashes) that .dockerignore keeps from `from` to `to`: the build context Docker would send. */
export function buildContext(from: string, to: string, files: string[], ignore: DockerIgnore): string[] {
  const kept = files.filter((f) => !ignore.excludes(f) && existsSync(join(from, f)));
  for (const f of kept) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(from, f), join(to, f), { verbatimSymlinks: true });
  }
  return kept;
}

export interface StageResult {
  /** The folder standing in for the stage's root filesystem. */
  root: string;
  /** WORKDIR at the end of the stage, as a path inside the image. */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
}

export interface ReplayOptions {
  /** The build context (already filtered by .dockerignore). */
  context: string;
  /** Where the stages' folders go (one per stage). */
  work: string;
  /** Environment every RUN starts from (the base image's): PATH and HOME. */
  baseEnv: Record<string, string>;
  /** Called before each RUN, e.g. to log progress. */
  onRun?: (stage: string, command: string) => void;
}

/**
 * Replays every stage in order. Synchronous (RUN steps can take minutes).
 * @throws DockerfileError naming the line of a RUN that failed or a COPY source that is missing.
 */
export function replay(stages: Stage[], options: ReplayOptions): Map<string, StageResult> {
  const results = new Map<string, StageResult>();
  stages.forEach((stage, index) => {
    const name = stage.name || String(index);
    const state: StageResult = { root: join(options.work, name), workdir: '/', env: {} };
    mkdirSync(state.root, { recursive: true });
    const args: Record<string, string> = {};
    const expand = (s: string): string => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, v: string) => state.env[v] ?? args[v] ?? '');
    const inImage = (p: string): string => posix.resolve(state.workdir, expand(p));
    const onHost = (imagePath: string): string => join(state.root, imagePath);
    for (const ins of stage.instructions) {
      switch (ins.kind) {
        case 'WORKDIR':
          state.workdir = inImage(ins.path);
          mkdirSync(onHost(state.workdir), { recursive: true });
          break;
        case 'ENV':
          for (const [k, v] of Object.entries(ins.vars)) state.env[k] = expand(v);
          break;
        case 'ARG':
          args[ins.name] = ins.value ?? '';
          break;
        case 'USER':
          state.user = ins.user;
          break;
        case 'ENTRYPOINT':
          state.entrypoint = ins.argv;
          break;
        case 'COPY': {
          const source = ins.from === undefined ? options.context : results.get(ins.from)?.root;
          if (source === undefined) throw new DockerfileError(ins.line, `COPY --from=${ins.from}: no earlier stage of that name`);
          const dest = expand(ins.dest);
          for (const src of ins.sources.map(expand)) {
            const from = ins.from === undefined ? join(source, src) : join(source, posix.resolve('/', src));
            if (!existsSync(from))
              throw new DockerfileError(
                ins.line,
                `COPY source ${src} does not exist${ins.from ? ` in stage ${ins.from}` : ' in the build context'}`,
              );
            // Docker: a folder's contents go into dest; a file goes into dest/ when dest ends with '/' (or is '.').
            const target =
              statSync(from).isDirectory() || !(dest.endsWith('/') || dest === '.')
                ? inImage(dest)
                : posix.join(inImage(dest), posix.basename(src));
            mkdirSync(dirname(onHost(target)), { recursive: true });
            cpSync(from, onHost(target), { recursive: true, verbatimSymlinks: true });
          }
          break;
        }
        case 'RUN': {
          options.onRun?.(name, ins.command);
          // The shell expands $VARS itself, from the environment below (as Docker's RUN does).
          const command = ins.command;
          const run = spawnSync('sh', ['-c', command], {
            cwd: onHost(state.workdir),
            env: { ...options.baseEnv, ...args, ...state.env },
            encoding: 'utf8',
            maxBuffer: 256 * 1024 * 1024,
          });
          if (run.status !== 0)
            throw new DockerfileError(
              ins.line,
              `RUN ${command} exited ${run.status ?? run.signal}:\n${(run.stdout + run.stderr).slice(-4000)}`,
            );
          break;
        }
      }
    }
    results.set(name, state);
  });
  return results;
}

/** Every file under `dir`, relative and with forward slashes. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}
