/** `kafka://host:port[,host:port…]/topic`: where `podscale load` produces. No kafkajs here. */
export interface KafkaTarget {
  /** The URL as given, for the record. */
  url: string;
  brokers: string[];
  topic: string;
}

// Kafka's own rule for topic names (kafka.common.internals.Topic): these characters, at most 249.
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Parses a kafka:// URL, or throws an Error that names what is wrong with it. */
export function parseKafkaUrl(text: string): KafkaTarget {
  const match = /^kafka:\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a kafka:// URL: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC`);
  const [, authority = '', topic = ''] = match;
  if (authority === '') throw new Error(`"${text}" names no broker: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC`);
  // WHATWG URL cannot hold a comma-separated host list, but it checks one host and port well.
  const brokers = authority.split(',').map((hostPort) => {
    let url: URL;
    try {
      url = new URL(`kafka://${hostPort}`);
    } catch {
      throw new Error(`"${text}": broker "${hostPort}" is not HOST:PORT with a port from 1 to 65535`);
    }
    if (url.port === '' || url.port === '0' || url.username || url.password || url.host.toLowerCase() !== hostPort.toLowerCase()) {
      throw new Error(`"${text}": broker "${hostPort}" is not HOST:PORT with a port from 1 to 65535`);
    }
    return url.host;
  });
  if (topic === '') throw new Error(`"${text}" names no topic: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC`);
  if (!TOPIC.test(topic)) throw new Error(`"${text}": topic "${topic}" is not a legal Kafka topic name (letters, digits, ".", "_", "-"; at most 249)`);
  return { url: text, brokers, topic };
}
