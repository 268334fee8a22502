import { describe, expect, it } from 'vitest';
import { formatSpecIssues } from '../../src/registry/spec-error.ts';
import { compileFiles, issueLine as at } from './write-registry.ts';

const FEATURES =
  'entities: {user: {prefix: "u:", idType: int}}\n' +
  'features:\n  user:\n    os:\n      events: [{streamName: s, topic: t, fields: [{name: os, type: string}]}]\n';

/** Compiles `onDemand:` (YAML lines under it) beside a registry with one entity `user`. */
function compile(lines: readonly string[]) {
  return compileFiles({
    'features.yaml': FEATURES,
    'on-demand.yaml': ['onDemand:', ...lines, ''].join('\n'),
  });
}

describe('the onDemand block', () => {
  it('compiles the documented keys, durations with units, and the defaults', () => {
    const { registry, issues, warnings } = compile([
      '  user:',
      '    blocked:',
      '      url: "http://users.internal/blocked/{id}"',
      '      timeout: 50ms',
      '      fallback: []',
      '      type: "list<int>"',
      '    scores:',
      '      url: "http://scores.internal/?ids={ids}"',
      '      method: post',
      '      timeout: 2s',
      '      fallback: null',
      '      type: float',
      '      maxBatch: 7',
      '      breaker: {failures: 2, reset: 30s}',
    ]);
    expect(issues).toEqual([]);
    expect(warnings).toEqual([]);
    expect(registry?.onDemand).toEqual([
      {
        entity: 'user',
        idType: 'int',
        name: 'blocked',
        url: 'http://users.internal/blocked/{id}',
        method: 'GET',
        timeoutMs: 50,
        fallback: [],
        type: { scalar: 'int', list: true },
        batch: undefined,
        breaker: { failures: 5, resetMs: 5000 },
      },
      {
        entity: 'user',
        idType: 'int',
        name: 'scores',
        url: 'http://scores.internal/?ids={ids}',
        method: 'POST',
        timeoutMs: 2000,
        fallback: null,
        type: { scalar: 'float', list: false },
        batch: { maxIds: 7 },
        breaker: { failures: 2, resetMs: 30_000 },
      },
    ]);
  });

  it('still reads timeoutMs and breaker.resetMs, with a deprecation warning at each', () => {
    const { registry, issues, warnings } = compile([
      '  user:',
      '    blocked:',
      '      url: "http://users.internal/blocked/{id}"',
      '      timeoutMs: 200', //                                      line 5
      '      fallback: []',
      '      type: "list<int>"',
      '      breaker: {failures: 3, resetMs: 30000}', //              line 8
    ]);
    expect(issues).toEqual([]);
    expect(registry?.onDemand[0]).toMatchObject({
      timeoutMs: 200,
      breaker: { failures: 3, resetMs: 30_000 },
    });
    expect(warnings.map(at)).toEqual([
      '5:7 LARDER_ERR_SPEC_DEPRECATED onDemand.user.blocked.timeoutMs is deprecated: write timeout: 200ms',
      '8:30 LARDER_ERR_SPEC_DEPRECATED onDemand.user.blocked.breaker.resetMs is deprecated: write reset: 30000ms',
    ]);
    expect(warnings.every((w) => w.severity === 'warning' && w.file === 'on-demand.yaml')).toBe(true);
    expect(registry?.warnings).toEqual(warnings);
    expect(formatSpecIssues(warnings).split('\n')[0]).toBe(
      'on-demand.yaml:5:7  LARDER_ERR_SPEC_DEPRECATED (warning)  onDemand.user.blocked.timeoutMs is deprecated: write timeout: 200ms',
    );
  });

  it('reports every problem at its file:line:col, as the other blocks do', () => {
    const { registry, issues } = compile([
      '  nobody:', //                                                    line 2
      '    x: {url: "http://a/{id}", timeout: 5ms, fallback: null, type: int}',
      '  user:',
      '    os: {url: "http://a/{id}", timeout: 5ms, fallback: null, type: string}', // line 5
      '    bad:',
      '      url: "ftp://a/{id}"', //                                 line 7
      '      method: PUT',
      '      timeout: 5', //                                         line 9
      '      fallback: "x"',
      '      type: "list<int>"',
      '      colour: 1', //                                          line 12
      '    nourl: {timeout: 2m, type: "lst<int>"}', //               line 13
      '    both: {url: "http://a/{id}/{ids}", timeout: 5ms, timeoutMs: 5, fallback: null, type: int, maxBatch: 5}',
      '    nobatch: {url: "http://a/{id}", timeout: 5ms, fallback: null, type: int, maxBatch: 5}',
    ]);
    expect(registry).toBeUndefined();
    const got = issues.filter((i) => i.file === 'on-demand.yaml').map(at);
    expect(got).toEqual([
      '2:3 LARDER_ERR_SPEC_REFERENCE onDemand.nobody: "nobody" is not an entity of this registry',
      '5:5 LARDER_ERR_SPEC_DUPLICATE onDemand.user.os: user.os is already a stored feature',
      '7:12 LARDER_ERR_SPEC_INVALID_VALUE onDemand.user.bad.url "ftp://a/{id}" is not an http(s) URL',
      '8:15 LARDER_ERR_SPEC_INVALID_VALUE onDemand.user.bad.method must be GET or POST, found "PUT"',
      expect.stringMatching(/^9:16 LARDER_ERR_SPEC_DURATION onDemand\.user\.bad\.timeout must be a duration/),
      '10:17 LARDER_ERR_SPEC_INVALID_VALUE onDemand.user.bad.fallback "x" is not a list<int>',
      expect.stringMatching(/^12:7 LARDER_ERR_SPEC_UNKNOWN_KEY unknown key "colour" in onDemand\.user\.bad/),
      '13:5 LARDER_ERR_SPEC_MISSING_KEY onDemand.user.nourl.url is required',
      '13:5 LARDER_ERR_SPEC_MISSING_KEY onDemand.user.nourl.fallback is required (use null to serve null)',
      '13:22 LARDER_ERR_SPEC_INVALID_VALUE onDemand.user.nourl.timeout must be at most 60s, found 120000 ms',
      expect.stringMatching(
        /^13:32 LARDER_ERR_SPEC_FIELD_TYPE onDemand\.user\.nourl\.type "lst<int>" is not/,
      ),
      expect.stringMatching(
        /^14:17 LARDER_ERR_SPEC_INVALID_VALUE onDemand\.user\.both\.url must contain exactly one/,
      ),
      expect.stringMatching(
        /^14:54 LARDER_ERR_SPEC_DUPLICATE onDemand\.user\.both\.timeoutMs and timeout say the same thing/,
      ),
      '15:88 LARDER_ERR_SPEC_INVALID_VALUE onDemand.user.nobatch.maxBatch needs a url with {ids}',
    ]);
  });

  it('requires a timeout', () => {
    const { issues } = compile(['  user:', '    x: {url: "http://a/{id}", fallback: null, type: int}']);
    expect(issues.map(at)).toEqual(['3:5 LARDER_ERR_SPEC_MISSING_KEY onDemand.user.x.timeout is required']);
  });
});
