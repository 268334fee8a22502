import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';

/**
 * Round-robin over each topic's subscribers. The client's own assigner deals the group leader's
 * topics out to every member, whatever each one subscribed to; in a group whose members read
 * different topics (two Larder streams on one `group`), partitions then go to members that never
 * fetch them. Here each partition goes only to a member subscribed to its topic, and members are
 * taken in a stable order so the same group gets the same assignment.
 */
export function subscriptionRoundRobin(
  _leader: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  _leaderTopics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const ids = [...members.keys()].sort();
  const result = new Map(ids.map((memberId) => [memberId, { memberId, assignments: new Map() }]));
  const topics = [...new Set(ids.flatMap((id) => members.get(id)?.topics ?? []))].sort();
  let next = 0; // carried across topics, so single-partition topics spread over the members too
  for (const topic of topics) {
    const subscribers = ids.filter((id) => members.get(id)?.topics?.includes(topic) === true);
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < count; partition += 1) {
      const member = result.get(subscribers[next++ % subscribers.length]!)!;
      const entry = member.assignments.get(topic) ?? { topic, partitions: [] as number[] };
      entry.partitions.push(partition);
      member.assignments.set(topic, entry);
    }
  }
  return [...result.values()];
}
