/**
 * The drift alert rules are valid Prometheus rules (`promtool check rules`), fire as their unit
 * tests say (`promtool test rules`), and the scrape configs that load them are valid. promtool
 * comes with Debian's prometheus package (scripts/install-tools.sh).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const promtool = '/usr/bin/promtool';
const stack = __dirname;

const run = (args: string[]): string => execFileSync(promtool, args, { cwd: stack, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('stack/prometheus-rules.yml', () => {
  beforeAll(() => {
    if (!existsSync(promtool)) throw new Error(`${promtool} is missing: run scripts/install-tools.sh as root (apt-get install prometheus)`);
  });
  it('passes promtool check rules', () => {
    expect(run(['check', 'rules', 'prometheus-rules.yml'])).toMatch(/SUCCESS: 4 rules found/);
  });
  it('fires on drift and only then (promtool test rules)', () => {
    expect(run(['test', 'rules', 'prometheus-rules.test.yml'])).toMatch(/SUCCESS/);
  });
  it('is loaded by both scrape configs', () => {
    for (const config of ['prometheus.yml', 'prometheus.compose.yml']) {
      expect(existsSync(join(stack, config))).toBe(true);
      expect(run(['check', 'config', config])).toMatch(/SUCCESS: 1 rule files found/);
    }
  });
});
