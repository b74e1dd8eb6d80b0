import { describe, expect, it } from 'vitest';
import { kafkaClusterId } from '@podscale/kafka/broker.ts';

describe('kafkaClusterId', () => {
  // A plain base64url of 16 random bytes starts with "-" once in 64 draws; the storage tool then
  // read it as an option and the broker did not start (a CI run failed so).
  it('is 22 characters of base64url and never starts with "-" (10 000 draws)', () => {
    for (let i = 0; i < 10_000; i++) {
      const id = kafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
