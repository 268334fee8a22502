import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LarderError } from '../../src/errors.ts';
import { createKafkaPublisher } from '../../src/ingest/stream/kafka-source.ts';
import { defaultStream } from '../../src/registry/compile-stream.ts';
import { readKafkaSecurity } from '../../src/registry/stream-options.ts';
import type { StreamDef } from '../../src/registry/types.ts';
import { RESOLVE_AND_START_MS, securedKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { byUser, expectExactRows, openKafkaScenario, waitFor } from '../support/kafka-scenario.ts';
import { KafkaTestClient } from '../support/kafka-topics.ts';
import { isPoison, makeEvents } from './fixtures/pipeline.ts';

/**
 * Kafka connection security against a real broker with SASL_PLAINTEXT, SSL and SASL_SSL
 * listeners (users' SCRAM credentials formatted into its metadata, a self-signed certificate
 * made by openssl). The test's own client uses the broker's PLAINTEXT listener.
 */
const USER = 'larder';
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const PASSWORD_ENV = 'LARDER_TEST_KAFKA_PASSWORD';
let broker: KafkaBroker;
let kafka: KafkaTestClient;

beforeAll(async () => {
  broker = await securedKafkaBroker({ [USER]: PASSWORD });
  kafka = new KafkaTestClient([broker.brokers]);
  process.env[PASSWORD_ENV] = PASSWORD;
  process.env.LARDER_TEST_KAFKA_WRONG = 'not-the-password';
}, RESOLVE_AND_START_MS);
afterAll(async () => {
  delete process.env[PASSWORD_ENV];
  delete process.env.LARDER_TEST_KAFKA_WRONG;
  await kafka?.close();
  await broker?.close();
});

const secured = () => broker.secured!;
const sasl = (mechanism: string, passwordEnv = PASSWORD_ENV) => ({ mechanism, username: USER, passwordEnv });
const tls = () => ({ ca: secured().caFile, serverName: secured().serverName });

/** Consumes `events` through the given connection; produces and checks over PLAINTEXT. */
async function ingestThrough(listener: string, connection: Record<string, unknown>): Promise<void> {
  const topic = KafkaTestClient.topicName();
  await kafka.create([topic], 2);
  const events = makeEvents(400, 20, 50);
  await kafka.produce(
    topic,
    events.map((e) => JSON.stringify(e)),
    byUser,
  );
  const group = `larder-${randomBytes(4).toString('hex')}`;
  const scenario = await openKafkaScenario({ brokers: [listener], topic, group, connection });
  try {
    await scenario.member();
    await waitFor('the group to commit every event', () => kafka.drained(group, topic), 60_000);
    await expectExactRows(scenario, events, topic, 20);
    // Dead letters went out through the secured producer. (By event id: the test's reader, a
    // plain message stream, may read a partition twice when its own group settles.)
    const dead = await kafka.readAll(`${topic}.dlq`);
    const ids = new Set(dead.map((d) => (JSON.parse(d.value) as { event_id: string }).event_id));
    expect([...ids].sort()).toEqual(
      events
        .filter(isPoison)
        .map((e) => e.event_id)
        .sort(),
    );
  } finally {
    await scenario.close();
    await kafka.deleteTopics([topic, `${topic}.retry`, `${topic}.dlq`]);
  }
}

describe('Kafka over SASL and TLS, on a real broker', () => {
  it('consumes and dead-letters with SCRAM-SHA-256 (SASL_PLAINTEXT)', async () => {
    await ingestThrough(secured().sasl, { sasl: sasl('SCRAM-SHA-256') });
  }, 120_000);

  it('consumes and dead-letters with SCRAM-SHA-512 over TLS (SASL_SSL), trusting a CA file', async () => {
    await ingestThrough(secured().secure, { sasl: sasl('SCRAM-SHA-512'), tls: tls() });
  }, 120_000);

  it('consumes and dead-letters with PLAIN, and with TLS alone', async () => {
    await ingestThrough(secured().sasl, { sasl: sasl('PLAIN') });
    await ingestThrough(secured().tls, { tls: tls() });
  }, 180_000);

  it('consumes and dead-letters with OAUTHBEARER, the token read from the environment', async () => {
    // Kafka's default validator takes unsigned JWTs: the path AWS_MSK_IAM tokens take too.
    process.env.LARDER_TEST_KAFKA_TOKEN = unsignedJwt(USER, 3_600);
    try {
      await ingestThrough(secured().sasl, {
        sasl: { mechanism: 'OAUTHBEARER', tokenEnv: 'LARDER_TEST_KAFKA_TOKEN' },
      });
    } finally {
      delete process.env.LARDER_TEST_KAFKA_TOKEN;
    }
  }, 120_000);

  it('publishes to a topic with SASL (the topic publisher)', async () => {
    const topic = KafkaTestClient.topicName();
    await kafka.create([topic], 1);
    const publisher = createKafkaPublisher(
      def({ brokers: [secured().secure], sasl: sasl('SCRAM-SHA-256'), tls: tls() }),
    );
    try {
      await publisher.publish(topic, [
        { key: 'a', payload: '{"n":1}' },
        { key: 'b', payload: '{"n":2}' },
      ]);
      const read = await kafka.readAll(topic);
      expect(read.map((r) => r.value).sort()).toEqual(['{"n":1}', '{"n":2}']);
    } finally {
      await publisher.close();
      await kafka.deleteTopics([topic]);
    }
  }, 60_000);

  it.each([
    ['a wrong password', () => ({ sasl: sasl('SCRAM-SHA-256', 'LARDER_TEST_KAFKA_WRONG') })],
    ['a wrong PLAIN password', () => ({ sasl: sasl('PLAIN', 'LARDER_TEST_KAFKA_WRONG') })],
    [
      'an expired OAUTHBEARER token',
      () => {
        process.env.LARDER_TEST_KAFKA_EXPIRED = unsignedJwt(USER, -3_600);
        return { sasl: { mechanism: 'OAUTHBEARER', tokenEnv: 'LARDER_TEST_KAFKA_EXPIRED' } };
      },
    ],
    ['an untrusted certificate', () => ({ brokers: [secured().tls], tls: true })],
    ['a certificate for another name', () => ({ brokers: [secured().tls], tls: { ca: secured().caFile } })],
  ])(
    'fails at start with LARDER_ERR_STREAM_AUTH naming the stream on %s',
    async (_, connection) => {
      const topic = KafkaTestClient.topicName();
      await kafka.create([topic], 1);
      const scenario = await openKafkaScenario({
        brokers: [secured().sasl],
        topic,
        group: `larder-${randomBytes(4).toString('hex')}`,
        connection: connection(),
      });
      const started = Date.now();
      try {
        const error = await scenario.member().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(LarderError);
        expect((error as LarderError).code).toBe('LARDER_ERR_STREAM_AUTH');
        expect((error as LarderError).message).toMatch(
          /^stream events: the Kafka brokers at 127\.0\.0\.1:\d+ \(/,
        );
        // A refusal is not retried as if the broker were down: it fails at once, not after a hang.
        expect(Date.now() - started).toBeLessThan(15_000);
      } finally {
        await scenario.close();
        await kafka.deleteTopics([topic]);
      }
    },
    60_000,
  );

  it('fails at start with LARDER_ERR_STREAM_OPTION when the password variable is not set', () => {
    expect(() =>
      createKafkaPublisher(
        def({ brokers: [secured().sasl], sasl: sasl('PLAIN', 'LARDER_TEST_KAFKA_UNSET') }),
      ),
    ).toThrow(
      /streams\.events\.connection\.sasl\.passwordEnv names the environment variable LARDER_TEST_KAFKA_UNSET, which is not set/,
    );
  });
});

/** An unsigned JWT (`alg: none`) for `sub`, expiring `expiresIn` seconds from now. */
function unsignedJwt(sub: string, expiresIn: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none' })}.${part({ sub, iat: now - 60, exp: now + expiresIn })}.`;
}

function def(connection: Record<string, unknown>): StreamDef {
  return { ...defaultStream('events', true), source: 'kafka', connection, group: 'larder-security' };
}

describe('connection.tls and connection.sasl', () => {
  const read = (connection: Record<string, unknown>) => () => readKafkaSecurity(def(connection));

  it('reads TLS and SASL settings', () => {
    expect(read({ tls: true, sasl: sasl('SCRAM-SHA-512') })()).toEqual({
      tls: {
        caFile: undefined,
        certFile: undefined,
        keyFile: undefined,
        keyPasswordEnv: undefined,
        serverName: undefined,
      },
      sasl: {
        mechanism: 'SCRAM-SHA-512',
        username: USER,
        passwordEnv: PASSWORD_ENV,
        tokenEnv: undefined,
        region: undefined,
      },
    });
    expect(read({})()).toEqual({ tls: undefined, sasl: undefined });
    // MSK IAM is TLS only: on by default.
    expect(read({ sasl: { mechanism: 'AWS_MSK_IAM', region: 'eu-west-1' } })().tls).toBeDefined();
  });

  it('never takes a secret as a value', () => {
    expect(read({ sasl: { mechanism: 'PLAIN', username: 'u', password: 'hunter2' } })).toThrow(
      /streams\.events\.connection\.sasl\.password is not read: .*name that in streams\.events\.connection\.sasl\.passwordEnv/,
    );
  });

  it.each([
    [{ sasl: { mechanism: 'GSSAPI' } }, /sasl\.mechanism must be one of PLAIN, SCRAM-SHA-256/],
    [{ sasl: { mechanism: 'PLAIN', passwordEnv: 'X' } }, /sasl\.username must be set for SASL PLAIN/],
    [{ sasl: { mechanism: 'SCRAM-SHA-256', username: 'u' } }, /sasl\.passwordEnv must be set/],
    [
      { sasl: { mechanism: 'PLAIN', username: 'u', passwordEnv: 'not a name' } },
      /the name of an environment variable/,
    ],
    [{ tls: { cert: '/c.pem' } }, /connection\.tls must be both cert and key/],
    [{ tls: { ca: '/ca.pem', verify: false } }, /connection\.tls\.verify is not a Kafka connection setting/],
    [{ tls: 'yes' }, /connection\.tls must be true, false or a map/],
    [{ sasl: { mechanism: 'AWS_MSK_IAM' }, tls: false }, /connection\.tls must be on for AWS_MSK_IAM/],
  ])('rejects %j', (connection, message) => {
    const error = (() => {
      try {
        read(connection)();
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect((error as LarderError).code).toBe('LARDER_ERR_STREAM_OPTION');
    expect((error as LarderError).message).toMatch(message);
  });

  it('names an unreadable CA file at start', () => {
    expect(() =>
      createKafkaPublisher(def({ brokers: ['127.0.0.1:1'], tls: { ca: '/nonexistent/ca.pem' } })),
    ).toThrow(/streams\.events\.connection\.tls\.ca: cannot read \/nonexistent\/ca\.pem/);
  });
});
