import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { collectProcessMetrics, metricsRegistry } from '../common/metrics';
import '../consumers/processor/metrics';
import '../gateway/metrics';

const dashboard = JSON.parse(readFileSync(join(__dirname, 'grafana', 'dashboards', 'trident.json'), 'utf8')) as {
  uid: string;
  panels: Array<{ id: number; title: string; gridPos: unknown; targets: Array<{ expr: string; refId: string }> }>;
};

describe('Grafana dashboard (Grafana cannot run here, so its JSON is checked)', () => {
  it('is a dashboard with unique panel ids, each with a query and a position', () => {
    expect(dashboard.uid).toBe('trident-overview');
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      expect(panel.gridPos).toBeDefined();
    }
  });

  it('only queries metrics that Trident exports', async () => {
    collectProcessMetrics();
    const exported = new Set((await metricsRegistry.getMetricsAsJSON()).map((m) => m.name));
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/trident_[a-z0-9_]+/g) ?? [])));
    const unknown = [...queried].map((name) => name.replace(/_(bucket|sum|count)$/, '')).filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
    expect(queried.size).toBeGreaterThan(8);
  });

  it('is provisioned from the folder that docker-compose mounts, with Prometheus as its data source', () => {
    const provider = parse(readFileSync(join(__dirname, 'grafana', 'provisioning', 'dashboards', 'trident.yml'), 'utf8'));
    expect(provider.providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    const datasource = parse(readFileSync(join(__dirname, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'));
    expect(datasource.datasources[0].uid).toBe('trident-prometheus');
  });
});
