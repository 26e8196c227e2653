/** Creates and lists Trident's topics (partitions and replication from config). */
import type { Admin, ITopicConfig } from 'kafkajs';
import type { TridentConfig } from './config';

export interface TopicInfo {
  name: string;
  partitions: number;
  replicationFactor: number;
}

export function topicSpecs(config: TridentConfig, names?: string[]): ITopicConfig[] {
  const t = config.topics;
  const all = names ?? [t.text, t.sentiment, t.entities, t.answers, t.categories, t.feedback, t.dlq, t.models];
  return all.map((topic) => ({
    topic,
    numPartitions: topic === t.models ? 1 : t.partitions,
    replicationFactor: t.replicationFactor,
    // Model versions are a changelog keyed by name:version: keep the latest record per key forever.
    configEntries: topic === t.models ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
  }));
}

/** Creates the missing topics; existing ones are left as they are. Returns the names it created. */
export async function ensureTopics(admin: Admin, specs: ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker still
  // answers for a moment after CreateTopics returns (its metadata image lags the controller).
  await admin.createTopics({ topics: missing, waitForLeaders: false });
  await waitForTopicLeaders(
    admin,
    missing.map((s) => s.topic),
  );
  return missing.map((s) => s.topic);
}

const retriableMetadataErrors = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']);

/** Waits until every partition of every named topic has a leader, or throws after timeoutMs. */
export async function waitForTopicLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem: string;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const leaderless = found.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0 && found.length === topics.length) return;
      lastProblem = `no leader yet for ${leaderless.map((t) => t.name).join(', ') || 'some topics'}`;
    } catch (err) {
      const type = (err as { type?: string }).type ?? '';
      if (!retriableMetadataErrors.has(type)) throw err;
      lastProblem = (err as Error).message;
    }
    if (Date.now() + delay > deadline) throw new Error(`topics ${topics.join(', ')} not ready after ${timeoutMs} ms: ${lastProblem}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export async function describeTopics(admin: Admin, prefix = ''): Promise<TopicInfo[]> {
  const names = (await admin.listTopics()).filter((n) => !n.startsWith('__') && n.startsWith(prefix)).sort();
  if (names.length === 0) return [];
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }));
}
