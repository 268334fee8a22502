import { describe, expect, it } from 'vitest';
import { StreamMetrics } from '../../src/ingest/stream/stream-metrics.ts';

const lagLines = async (metrics: StreamMetrics): Promise<string[]> =>
  (await metrics.registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith('larder_stream_lag_'))
    .sort();

describe('StreamMetrics lag gauges', () => {
  it('follow the partitions a source owns: one given away in a rebalance stops being reported', async () => {
    const metrics = new StreamMetrics();
    metrics.lag('kafka:events/t', [
      { partition: '0', messages: 10 },
      { partition: '1', messages: 5, millis: 2_000 },
    ]);
    metrics.lag('kafka:events/other', [{ partition: '0', messages: 7 }]);
    expect(await lagLines(metrics)).toEqual([
      'larder_stream_lag_messages{source="kafka:events/other",partition="0"} 7',
      'larder_stream_lag_messages{source="kafka:events/t",partition="0"} 10',
      'larder_stream_lag_messages{source="kafka:events/t",partition="1"} 5',
      'larder_stream_lag_seconds{source="kafka:events/t",partition="1"} 2',
    ]);

    // Partition 0 went to another member; partition 1 was committed up to its end.
    metrics.lag('kafka:events/t', [{ partition: '1', messages: 0 }]);
    expect(await lagLines(metrics)).toEqual([
      'larder_stream_lag_messages{source="kafka:events/other",partition="0"} 7',
      'larder_stream_lag_messages{source="kafka:events/t",partition="1"} 0',
      'larder_stream_lag_seconds{source="kafka:events/t",partition="1"} 2',
    ]);

    // Nothing owned at all (every partition given away): no series of that source is left.
    metrics.lag('kafka:events/t', []);
    expect(await lagLines(metrics)).toEqual([
      'larder_stream_lag_messages{source="kafka:events/other",partition="0"} 7',
    ]);
  });
});
