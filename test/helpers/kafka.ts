import { brokerUnavailableReason, KafkaBroker, type KafkaBrokerOptions } from '../../src/kafka/broker.ts';

export { KafkaBroker };

/**
 * Why this machine cannot run the Kafka tests, in one line (no Java, or the broker's jars not
 * resolved: `bash scripts/setup.sh --with-kafka`); undefined when it can. For `describe.skipIf`.
 */
export async function kafkaSkipReason(): Promise<string | undefined> {
  const reason = await brokerUnavailableReason();
  if (reason) console.warn(`skipping the Kafka tests: ${reason}`);
  return reason;
}

/** One broker for a test file: start it in beforeAll, `stop()` it in afterAll. */
export async function startTestBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  return KafkaBroker.start(options);
}
