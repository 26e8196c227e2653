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
  await admin.createTopics({ topics: missing, waitForLeaders: true });
  return missing.map((s) => s.topic);
}

export async function describeTopics(admin: Admin, prefix = ''): Promise<TopicInfo[]> {
  const names = (await admin.listTopics()).filter((n) => !n.startsWith('__') && n.startsWith(prefix)).sort();
  if (names.length === 0) return [];
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }));
}
