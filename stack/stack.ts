/**
 * The local stack without Docker: a single-node Apache Kafka broker (KRaft, broker+controller) and
 * Apicurio Registry (Confluent-compatible API), both fetched from Maven Central on first use into
 * `<stack.home>/dist`, with all their data in `<stack.home>/data` (what `down --wipe` removes).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { stackErrorCodes } from '../common/error-codes';
import { TridentError, type TridentErrorOptions } from '../common/errors';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { ensureSecureFiles, isSecureStack, scramFormatArgs, secureClientSettings, secureFiles, secureListenerProperties } from './secure';

export const KAFKA_VERSION = '4.1.0';
export const REGISTRY_VERSION = '2.6.13.Final';

/** A failure of the local stack; `code` is one of stackErrorCodes. */
export class StackError extends TridentError {
  constructor(code: keyof typeof stackErrorCodes, message: string, options?: TridentErrorOptions) {
    super(stackErrorCodes[code], message, options);
  }
}

export type ServiceName = 'kafka' | 'registry';

export interface ServiceStatus {
  name: ServiceName;
  pid: number | null;
  running: boolean;
  answering: boolean;
  address: string;
  log: string;
}

export interface StackPaths {
  home: string;
  dist: string;
  kafkaLibs: string;
  registryDir: string;
  data: string;
  kafkaData: string;
  registryData: string;
  logs: string;
  run: string;
}

const repoRoot = (() => {
  const parts = __dirname.split(/[\\/]/);
  return parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
})();

export function stackPaths(config: TridentConfig): StackPaths {
  const home = config.stack.home;
  const dist = join(home, 'dist');
  const data = config.stack.dataDir ?? join(home, 'data');
  return {
    home,
    dist,
    kafkaLibs: join(dist, `kafka-${KAFKA_VERSION}`, 'libs'),
    registryDir: join(dist, `apicurio-registry-${REGISTRY_VERSION}`),
    data,
    kafkaData: join(data, 'kafka'),
    registryData: join(data, 'registry'),
    logs: join(data, 'logs'),
    run: join(data, 'run'),
  };
}

export function kafkaAddress(config: TridentConfig): string {
  return `127.0.0.1:${config.stack.kafkaPort}`;
}

export function registryAddress(config: TridentConfig): string {
  return `http://127.0.0.1:${config.stack.registryPort}/apis/ccompat/v7`;
}

type Say = (line: string) => void;

/** Checks a command exists; the error says what to install. */
function requireTool(tool: string, hint: string): void {
  const result = spawnSync(tool, ['-version'], { stdio: 'ignore' });
  if (result.error) throw new StackError('TOOL_MISSING', `\`${tool}\` was not found on PATH: ${hint}`);
}

/** Downloads Kafka and the registry from Maven Central unless already cached. Blocks (runs mvn). */
export function fetchStack(config: TridentConfig, say: Say = () => undefined): void {
  const paths = stackPaths(config);
  const pomDir = join(repoRoot, 'stack', 'maven');
  const kafkaReady = existsSync(join(paths.kafkaLibs, '.complete'));
  const registryReady = existsSync(join(paths.registryDir, '.complete'));
  if (kafkaReady && registryReady) return;
  requireTool('java', 'install Java 17 or newer (e.g. apt-get install openjdk-17-jre-headless)');
  requireTool('mvn', 'install Maven 3.8 or newer (e.g. apt-get install maven); it fetches Kafka and the registry');
  const runMaven = (args: string[], what: string) => {
    say(`fetching ${what} from Maven Central…`);
    const result = spawnSync('mvn', ['-q', '-B', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) {
      const detail = (result.stdout + result.stderr)
        .split('\n')
        .filter((l) => /ERROR/.test(l))
        .slice(0, 3)
        .join(' ');
      throw new StackError(
        'DOWNLOAD_FAILED',
        `could not fetch ${what} with Maven (exit ${result.status}): ${detail || 'see mvn output'}. Check that Maven Central is reachable (mvn's settings.xml / proxy) and retry.`,
      );
    }
  };
  if (!kafkaReady) {
    rmSync(paths.kafkaLibs, { recursive: true, force: true });
    runMaven(
      ['-f', join(pomDir, 'kafka-pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${paths.kafkaLibs}`],
      `Apache Kafka ${KAFKA_VERSION}`,
    );
    writeFileSync(join(paths.kafkaLibs, '.complete'), new Date().toISOString());
  }
  if (!registryReady) {
    rmSync(paths.registryDir, { recursive: true, force: true });
    runMaven(
      [
        '-f',
        join(pomDir, 'registry-pom.xml'),
        'dependency:unpack',
        `-DoutputDirectory=${paths.registryDir}`,
        `-DmarkersDirectory=${join(paths.dist, '.markers')}`,
      ],
      `Apicurio Registry ${REGISTRY_VERSION}`,
    );
    writeFileSync(join(paths.registryDir, '.complete'), new Date().toISOString());
  }
}

function pidFile(paths: StackPaths, name: ServiceName): string {
  return join(paths.run, `${name}.pid`);
}

function readPid(paths: StackPaths, name: ServiceName): number | null {
  try {
    const pid = Number(readFileSync(pidFile(paths, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true when something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function registryAnswers(config: TridentConfig): Promise<boolean> {
  try {
    const response = await fetch(`${registryAddress(config)}/subjects`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** How a client reaches this stack's broker: its address, and on a secure stack the `trident` user's settings. */
export function stackKafkaSettings(
  config: TridentConfig,
): Pick<TridentConfig['kafka'], 'brokers'> & Partial<Pick<TridentConfig['kafka'], 'sasl' | 'ssl'>> {
  const paths = stackPaths(config);
  return { brokers: [kafkaAddress(config)], ...(isSecureStack(paths) ? secureClientSettings(paths) : {}) };
}

async function kafkaAnswers(config: TridentConfig): Promise<boolean> {
  // The broker accepts TCP before it can serve metadata; ask it for real.
  if (!(await portOpen(config.stack.kafkaPort))) return false;
  const { logLevel } = await import('kafkajs');
  const client = { ...config, kafka: { ...config.kafka, ...stackKafkaSettings(config) } } as TridentConfig;
  const admin = createKafka(client, 'trident-stack', {
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function kafkaProperties(config: TridentConfig, paths: StackPaths, secure: boolean): string {
  const { kafkaPort, controllerPort } = config.stack;
  const listeners = secure
    ? secureListenerProperties(secureFiles(paths), kafkaPort, controllerPort)
    : [
        `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort}`,
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      ];
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    ...listeners,
    `log.dirs=${paths.kafkaData}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    '',
  ].join('\n');
}

const LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="STDOUT" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka" level="WARN"/><Logger name="org.apache.kafka" level="WARN"/>
    <Logger name="kafka.server.KafkaServer" level="INFO"/><Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="STDOUT"/></Root>
  </Loggers>
</Configuration>
`;

function startKafka(config: TridentConfig, paths: StackPaths, secure: boolean): number {
  const propsFile = join(paths.run, 'server.properties');
  const log4jFile = join(paths.run, 'log4j2.xml');
  // A secure broker's properties hold its store and SCRAM passwords: owner-only.
  rmSync(propsFile, { force: true });
  writeFileSync(propsFile, kafkaProperties(config, paths, secure), { mode: 0o600 });
  writeFileSync(log4jFile, LOG4J2);
  const classpath = `${paths.kafkaLibs}/*`;
  if (!existsSync(join(paths.kafkaData, 'meta.properties'))) {
    mkdirSync(paths.kafkaData, { recursive: true });
    const uuid = spawnSync('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
    const clusterId = uuid.stdout.trim().split('\n').pop() ?? '';
    if (uuid.status !== 0 || !clusterId)
      throw new StackError('KAFKA_FORMAT_FAILED', `kafka StorageTool random-uuid failed: ${uuid.stderr.trim()}`);
    // A secure cluster gets its SCRAM users in its first metadata (KRaft has no ZooKeeper to add them to later).
    const scram = secure ? scramFormatArgs(secureFiles(paths)) : [];
    const format = spawnSync(
      'java',
      [
        `-Dlog4j2.configurationFile=${log4jFile}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        propsFile,
        ...scram,
      ],
      { encoding: 'utf8' },
    );
    if (format.status !== 0)
      throw new StackError(
        'KAFKA_FORMAT_FAILED',
        `kafka storage format failed: ${(format.stderr || format.stdout).trim().replace(/password=[^\],]*/g, 'password=***')}`,
      );
    if (secure) writeFileSync(secureFiles(paths).marker, new Date().toISOString(), { mode: 0o600 });
  }
  return spawnDetached(
    'java',
    [
      `-Xmx${config.stack.kafkaHeapMb}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      propsFile,
    ],
    join(paths.logs, 'kafka.log'),
  );
}

// The registry listens on loopback only (quarkus.http.host), secure stack or not: it has no authentication.
function startRegistry(config: TridentConfig, paths: StackPaths): number {
  mkdirSync(paths.registryData, { recursive: true });
  const jar = readdirSync(paths.registryDir).find((f) => f.endsWith('-runner.jar'));
  if (!jar)
    throw new StackError(
      'REGISTRY_MISSING',
      `no *-runner.jar in ${paths.registryDir}; run \`trident stack down --wipe-downloads\` and retry`,
    );
  return spawnDetached(
    'java',
    [
      `-Xmx${config.stack.registryHeapMb}m`,
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${config.stack.registryPort}`,
      '-jar',
      join(paths.registryDir, jar),
    ],
    join(paths.logs, 'registry.log'),
    // Its default store is in-memory H2; a file-backed H2 keeps schemas across restarts.
    { REGISTRY_DATASOURCE_URL: `jdbc:h2:file:${join(paths.registryData, 'registry')}` },
  );
}

function spawnDetached(command: string, args: string[], logFile: string, env: Record<string, string> = {}): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new StackError('START_FAILED', `could not start ${command}`);
  return child.pid;
}

async function waitFor(check: () => Promise<boolean>, pid: number, timeoutMs: number, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (!alive(pid)) {
      throw new StackError('START_FAILED', `${what} exited during start; last lines of ${logFile}:\n${tail(logFile, 15)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError('START_TIMEOUT', `${what} did not answer within ${timeoutMs / 1000}s; see ${logFile}`);
}

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

export interface StackUpOptions {
  /** Kafka with a SASL_SSL listener (SCRAM-SHA-512 users, TLS from the stack's own CA); see secure.ts. */
  secure?: boolean;
}

/**
 * Starts whatever is not running yet and waits until both services answer. Harmless when the stack
 * is already up. Fails with one clear line on a busy port, a missing tool or a failed download.
 * A stack created with `secure` stays secure (its data dir remembers); a plain one cannot become
 * secure (its cluster has no SCRAM users), which is refused with the way out.
 */
export async function stackUp(config: TridentConfig, say: Say = () => undefined, options: StackUpOptions = {}): Promise<ServiceStatus[]> {
  const paths = stackPaths(config);
  for (const dir of [paths.data, paths.logs, paths.run]) mkdirSync(dir, { recursive: true });
  fetchStack(config, say);
  const secure = options.secure === true || isSecureStack(paths);
  if (secure && !isSecureStack(paths) && existsSync(join(paths.kafkaData, 'meta.properties'))) {
    throw new StackError(
      'STACK_NOT_SECURE',
      `the stack in ${paths.data} was created without --secure and its cluster has no SCRAM users; use another TRIDENT_STACK_DATA_DIR for a secure stack (or \`trident stack down --wipe\` this one first)`,
    );
  }
  if (secure) ensureSecureFiles(paths, say);

  const plan: Array<{ name: ServiceName; port: number; answers: () => Promise<boolean>; start: () => number; label: string }> = [
    {
      name: 'kafka',
      port: config.stack.kafkaPort,
      answers: () => kafkaAnswers(config),
      start: () => startKafka(config, paths, secure),
      label: `Kafka ${KAFKA_VERSION}${secure ? ' (SASL_SSL)' : ''}`,
    },
    {
      name: 'registry',
      port: config.stack.registryPort,
      answers: () => registryAnswers(config),
      start: () => startRegistry(config, paths),
      label: `Apicurio Registry ${REGISTRY_VERSION}`,
    },
  ];
  const started: Array<{ name: ServiceName; pid: number; answers: () => Promise<boolean>; label: string }> = [];
  for (const service of plan) {
    const pid = readPid(paths, service.name);
    if (alive(pid)) {
      started.push({ name: service.name, pid: pid!, answers: service.answers, label: service.label });
      continue;
    }
    if (await portOpen(service.port)) {
      throw new StackError(
        'PORT_BUSY',
        `port ${service.port} (${service.name}) is already in use by another process; stop it or set TRIDENT_STACK_${service.name === 'kafka' ? 'KAFKA' : 'REGISTRY'}_PORT`,
      );
    }
    say(`starting ${service.label}…`);
    const newPid = service.start();
    writeFileSync(pidFile(paths, service.name), String(newPid));
    started.push({ name: service.name, pid: newPid, answers: service.answers, label: service.label });
  }
  // Both start in parallel (the registry does not need Kafka with file storage); wait for both.
  await Promise.all(started.map((s) => waitFor(s.answers, s.pid, config.stack.startTimeoutMs, s.label, join(paths.logs, `${s.name}.log`))));
  return stackStatus(config);
}

/** Stops both services (SIGTERM, then SIGKILL after a grace period); `wipe` also deletes all data. */
export async function stackDown(config: TridentConfig, options: { wipe?: boolean } = {}, say: Say = () => undefined): Promise<void> {
  const paths = stackPaths(config);
  const stops = (['registry', 'kafka'] as ServiceName[]).map(async (name) => {
    const pid = readPid(paths, name);
    if (alive(pid)) {
      say(`stopping ${name} (pid ${pid})…`);
      await terminate(pid!, 30_000);
    }
    rmSync(pidFile(paths, name), { force: true });
  });
  await Promise.all(stops);
  if (options.wipe) {
    rmSync(paths.data, { recursive: true, force: true });
    say(`removed ${paths.data}`);
  }
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig); // the whole process group: java and anything it forked
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (alive(pid)) signal('SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
}

export async function stackStatus(config: TridentConfig): Promise<ServiceStatus[]> {
  const paths = stackPaths(config);
  const kafkaPid = readPid(paths, 'kafka');
  const registryPid = readPid(paths, 'registry');
  return [
    {
      name: 'kafka',
      pid: kafkaPid,
      running: alive(kafkaPid),
      answering: await kafkaAnswers(config),
      address: kafkaAddress(config),
      log: join(paths.logs, 'kafka.log'),
    },
    {
      name: 'registry',
      pid: registryPid,
      running: alive(registryPid),
      answering: await registryAnswers(config),
      address: registryAddress(config),
      log: join(paths.logs, 'registry.log'),
    },
  ];
}

/** Config for clients of the local stack: its broker and registry addresses (and credentials when secure). */
export function localStackOverrides(config: TridentConfig): Record<string, unknown> {
  return { kafka: stackKafkaSettings(config), registry: { url: registryAddress(config) } };
}
