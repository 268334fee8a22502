import { describe, expect, it } from 'vitest';
import {
  readConsumerOptions,
  readKinesisOptions,
  readNatsOptions,
  readRedisOptions,
} from '../../src/registry/stream-options.ts';
import { compileFiles, issueLine as at } from './write-registry.ts';

const FEATURE =
  'features:\n  user:\n    clicks:\n      featureType: action\n' +
  '      events: [{streamName: ev, topic: t, fields: [{name: item, type: int}]}]\n';

function compile(streams: readonly string[]) {
  return compileFiles({ 'features.yaml': FEATURE, 'streams.yaml': ['streams:', ...streams, ''].join('\n') });
}

describe('streams.<name>.options, checked with the registry', () => {
  it('reports every wrong value at its file:line:col, with the error a consumer would stop on', () => {
    const { registry, issues, warnings } = compile([
      '  ev:',
      '    source: redis',
      '    options:',
      '      maxInFlight: 0', //                             line 5
      '      concurrency: {min: 4, max: 2}', //              line 6
      '      retryDelays: [1s, soon]', //                    line 7
      '      startFrom: middle', //                          line 8
      '      claimIdle: forever', //                         line 9
      '      fetchWait: 2s',
    ]);
    expect(registry).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(issues.map(at)).toEqual([
      '5:20 LARDER_ERR_STREAM_OPTION streams.ev.options.maxInFlight must be a positive integer, got 0',
      '6:34 LARDER_ERR_STREAM_OPTION streams.ev.options.concurrency.max must be at least concurrency.min (4), got 2',
      '7:25 LARDER_ERR_STREAM_OPTION streams.ev.options.retryDelays[1] must be a duration like 500ms, 10s, 1m (or a number of ms), got "soon"',
      '8:18 LARDER_ERR_STREAM_OPTION streams.ev.options.startFrom must be earliest or latest, got "middle"',
      '9:18 LARDER_ERR_STREAM_OPTION streams.ev.options.claimIdle must be a duration like 500ms, 10s, 1m (or a number of ms), got "forever"',
    ]);
    expect(issues.every((i) => i.file === 'streams.yaml' && i.severity === 'error')).toBe(true);
  });

  it('runs the same checks a consumer runs at start, which throw the first problem', () => {
    const options = { maxInFlight: 0, startFrom: 'middle' };
    expect(() => readConsumerOptions('ev', options)).toThrow(
      'streams.ev.options.maxInFlight must be a positive integer, got 0',
    );
    expect(() => readRedisOptions({ name: 'ev', options })).toThrow(
      'streams.ev.options.startFrom must be earliest or latest, got "middle"',
    );
    expect(readNatsOptions({ name: 'ev', options: { ackWait: '5s', maxDeliver: '3' } })).toMatchObject({
      ackWaitMs: 5000,
      maxDeliver: 3,
    });
    expect(
      readKinesisOptions({ name: 'ev', options: { leaseTable: 'leases', leaseDuration: '20s' } }),
    ).toMatchObject({ leaseTable: 'leases', leaseDuration: 20_000 });
    expect(() => readKinesisOptions({ name: 'ev', options: { leaseDuration: 'long' } })).toThrow(
      'streams.ev.options.leaseDuration must be a duration',
    );
  });

  it('warns about options nothing reads, and checks each adapter against its own', () => {
    const { registry, warnings } = compile([
      '  ev:',
      '    source: nats',
      '    options: {ackWait: 5s, maxInflight: 10, claimIdle: 1m}', // line 4
      '  web:',
      '    source: http',
      '    options: {fetchMax: 10}', //                             line 7
    ]);
    expect(registry?.streams.get('ev')?.options).toEqual({ ackWait: '5s', maxInflight: 10, claimIdle: '1m' });
    expect(warnings.map(at)).toEqual([
      '4:28 LARDER_ERR_SPEC_UNKNOWN_KEY streams.ev.options.maxInflight is not an option of nats streams; it is not read',
      '4:45 LARDER_ERR_SPEC_UNKNOWN_KEY streams.ev.options.claimIdle is not an option of nats streams; it is not read',
      '7:15 LARDER_ERR_SPEC_UNKNOWN_KEY streams.web.options.fetchMax is not read: http streams take no options',
    ]);
    expect(warnings[0]?.hint).toContain('Did you mean "maxInFlight"?');
    expect(registry?.warnings).toEqual(warnings);
  });

  it('checks options after ${VAR} substitution, as a consumer sees them', () => {
    const streams = ['  ev:', '    source: redis', '    options: {fetchMax: "${FETCH_MAX}"}'];
    const files = { 'features.yaml': FEATURE, 'streams.yaml': ['streams:', ...streams, ''].join('\n') };
    // Unset: reported once, as a missing variable, not again as a wrong option.
    expect(compileFiles(files, { env: {} }).issues.map((i) => i.code)).toEqual(['LARDER_ERR_SPEC_ENV']);
    const ok = compileFiles(
      { 'features.yaml': FEATURE, 'streams.yaml': ['streams:', ...streams, ''].join('\n') },
      { env: { FETCH_MAX: '250' } },
    );
    expect(ok.registry?.streams.get('ev')?.options).toEqual({ fetchMax: '250' });
    const bad = compileFiles(
      { 'features.yaml': FEATURE, 'streams.yaml': ['streams:', ...streams, ''].join('\n') },
      { env: { FETCH_MAX: 'lots' } },
    );
    expect(bad.issues.map(at)).toEqual([
      '4:25 LARDER_ERR_STREAM_OPTION streams.ev.options.fetchMax must be a positive integer, got "lots"',
    ]);
  });
});
