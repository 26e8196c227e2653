/**
 * The Helm chart deploy/helm/trident: `helm lint` and `helm template` with the default values and
 * with values-production.yaml, and what the rendered manifests must hold (config as real TRIDENT_*
 * keys that the config loader accepts, probes, the replicas ≤ partitions guard, …). Helm is built
 * from the Go module proxy by scripts/install-helm.sh; without Go the tests skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { configEnvNames, loadConfig } from '../common/config';
import { valuesSchemaPath, valuesSchemaText } from './values-schema';

const repo = join(__dirname, '..');
const chart = join(repo, 'deploy', 'helm', 'trident');
const productionValues = join(chart, 'values-production.yaml');
const helm = join(process.env.TRIDENT_TOOLS_BIN ?? join(process.env.HOME ?? '', '.cache', 'trident', 'bin'), 'helm');
const hasGo = spawnSync('go', ['version']).status === 0;
const describeChart = hasGo ? describe : describe.skip;

interface Manifest {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: any;
}

function runHelm(args: string[]): { status: number | null; out: string; err: string } {
  const result = spawnSync(helm, args, { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

function template(...extra: string[]): Manifest[] {
  const result = runHelm(['template', 'trident', chart, ...extra]);
  if (result.status !== 0) throw new Error(`helm template ${extra.join(' ')} failed:\n${result.err}`);
  return parseAllDocuments(result.out)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const find = (manifests: Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
};

/** Every TRIDENT_* name a manifest sets: ConfigMap data and container env. */
function renderedTridentNames(manifests: Manifest[]): string[] {
  const names = new Set<string>();
  for (const m of manifests) {
    for (const key of Object.keys(m.data ?? {})) if (key.startsWith('TRIDENT_')) names.add(key);
    for (const container of m.spec?.template?.spec?.containers ?? []) {
      for (const env of container.env ?? []) if (String(env.name).startsWith('TRIDENT_')) names.add(env.name);
    }
  }
  return [...names];
}

it('values.schema.json is generated from the config schema (`npm run helm:schema` after a config change)', () => {
  expect(readFileSync(valuesSchemaPath, 'utf8')).toBe(valuesSchemaText());
});

describeChart(`Helm chart deploy/helm/trident${hasGo ? '' : ' (skipped: Go is not installed, so helm cannot be built)'}`, () => {
  beforeAll(() => {
    // Quick when helm is already built; the first build takes minutes.
    const install = spawnSync('bash', [join(repo, 'scripts', 'install-helm.sh')], { stdio: 'inherit' });
    if (install.status !== 0 || !existsSync(helm)) throw new Error('scripts/install-helm.sh could not build helm');
  }, 30 * 60_000);

  it('passes `helm lint --strict` with the default values and with values-production.yaml', () => {
    for (const args of [[], ['-f', productionValues]]) {
      const lint = runHelm(['lint', '--strict', chart, ...args]);
      expect({ args, status: lint.status, out: lint.status === 0 ? '' : lint.out + lint.err }).toEqual({ args, status: 0, out: '' });
    }
  });

  it.each([
    ['the default values', [] as string[]],
    ['values-production.yaml', ['-f', productionValues]],
  ])('renders with %s: every TRIDENT_* name is a config key, and the config loader accepts the values', (_, args) => {
    const manifests = template(...args);
    const known = new Set(configEnvNames());
    const rendered = renderedTridentNames(manifests);
    expect(rendered.length).toBeGreaterThan(3);
    expect(rendered.filter((name) => !known.has(name))).toEqual([]);
    for (const component of ['processor', 'gateway']) {
      const env = find(manifests, 'ConfigMap', `trident-${component}`).data!;
      // YAML numbers reach templates as floats; whole numbers must not print as 1e+06.
      expect(Object.entries(env).filter(([, v]) => /^\d+(\.\d+)?e[+-]\d+$/i.test(v))).toEqual([]);
      expect(() => loadConfig({ env })).not.toThrow();
    }
  });

  it('runs the processor and the gateway with probes, measured resources, scrape annotations, non-root, and a PodDisruptionBudget each', () => {
    const manifests = template();
    const processor = find(manifests, 'Deployment', 'trident-processor');
    const gateway = find(manifests, 'Deployment', 'trident-gateway');
    const env = find(manifests, 'ConfigMap', 'trident-processor').data!;
    const config = loadConfig({ env });
    expect(processor.spec.replicas).toBeLessThanOrEqual(config.topics.partitions);

    const p = processor.spec.template.spec.containers[0];
    expect(p.args).toEqual(['serve']);
    expect(p.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(p.ports).toEqual([{ name: 'metrics', containerPort: config.processor.metricsPort }]);
    expect(config.processor.metricsHost).toBe('0.0.0.0');
    expect(processor.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.processor.metricsPort),
      'prometheus.io/path': '/metrics',
    });

    const g = gateway.spec.template.spec.containers[0];
    expect(g.args).toEqual(['gateway']);
    expect(g.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(g.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(find(manifests, 'Service', 'trident-gateway').spec.ports[0]).toMatchObject({ targetPort: 'http' });

    for (const [deployment, container] of [
      [processor, p],
      [gateway, g],
    ]) {
      expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(container.resources.requests.memory).toMatch(/^\d+Mi$/);
    }
    // Requests at least the measured peaks: processor 235 MB (224 MiB), gateway 183 MiB.
    expect(parseInt(p.resources.requests.memory, 10)).toBeGreaterThanOrEqual(224);
    expect(parseInt(g.resources.requests.memory, 10)).toBeGreaterThanOrEqual(183);
    expect(
      manifests
        .filter((m) => m.kind === 'PodDisruptionBudget')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(['trident-gateway', 'trident-processor']);
    // The topics exist before the processor starts: a pre-install/pre-upgrade hook, configured inline like the processor.
    const topicsJob = find(manifests, 'Job', 'trident-topics');
    expect(topicsJob.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
    const job = topicsJob.spec.template.spec.containers[0];
    expect(job.args).toEqual(['topics', 'create']);
    expect(Object.fromEntries(job.env.map((e: { name: string; value: string }) => [e.name, e.value]))).toEqual(env);
    // Off by default: KEDA, Kafka credentials, the tokens Secret.
    expect(manifests.filter((m) => m.kind === 'ScaledObject')).toEqual([]);
    expect(JSON.stringify([p.envFrom, g.envFrom])).not.toContain('secretRef');
  });

  it('refuses more processor replicas (or KEDA maxReplicas) than the input topic has partitions', () => {
    expect(template('--set', 'processor.replicas=6').length).toBeGreaterThan(0);
    const tooMany = runHelm(['template', 'trident', chart, '--set', 'processor.replicas=7']);
    expect(tooMany.status).not.toBe(0);
    expect(tooMany.err).toMatch(/processor\.replicas \(7\) exceeds config\.topics\.partitions \(6\)/);
    const kedaTooMany = runHelm(['template', 'trident', chart, '--set', 'keda.enabled=true', '--set', 'keda.maxReplicas=8']);
    expect(kedaTooMany.status).not.toBe(0);
    expect(kedaTooMany.err).toMatch(/keda\.maxReplicas \(8\) exceeds config\.topics\.partitions \(6\)/);
  });

  it('refuses an unknown config key or a mistyped value before rendering anything (values.schema.json)', () => {
    const unknown = runHelm(['template', 'trident', chart, '--set', 'config.kafka.brokerList=a:9092']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.err).toMatch(/brokerList/);
    const mistyped = runHelm(['template', 'trident', chart, '--set', 'processor.config.processor.maxBatchEvents=many']);
    expect(mistyped.status).not.toBe(0);
    expect(mistyped.err).toMatch(/maxBatchEvents/);
  });

  it('production values: KEDA on the consumer group lag, Kafka credentials and gateway tokens from Secrets', () => {
    const manifests = template('-f', productionValues);
    const processorEnv = find(manifests, 'ConfigMap', 'trident-processor').data!;
    const config = loadConfig({ env: processorEnv });
    const scaled = find(manifests, 'ScaledObject', 'trident-processor');
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(config.topics.partitions);
    expect(scaled.spec.triggers[0]).toMatchObject({
      type: 'kafka',
      metadata: { bootstrapServers: config.kafka.brokers.join(','), consumerGroup: config.processor.groupId, topic: config.topics.text },
    });
    // KEDA owns the replica count.
    const processor = find(manifests, 'Deployment', 'trident-processor');
    expect(processor.spec.replicas).toBeUndefined();

    const gateway = find(manifests, 'Deployment', 'trident-gateway');
    for (const deployment of [processor, gateway]) {
      expect(deployment.spec.template.spec.containers[0].envFrom).toContainEqual({ secretRef: { name: 'trident-kafka-credentials' } });
    }
    const gatewayEnv = find(manifests, 'ConfigMap', 'trident-gateway').data!;
    const mount = gateway.spec.template.spec.containers[0].volumeMounts.find((v: { name: string }) => v.name === 'tokens');
    expect(gatewayEnv.TRIDENT_GATEWAY_TOKENS_FILE).toBe(`${mount.mountPath}/tokens.json`);
    expect(gateway.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: 'tokens', secret: expect.objectContaining({ secretName: 'trident-gateway-tokens' }) }),
    );
  });
});
