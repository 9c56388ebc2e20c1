import { Redis } from 'ioredis';

/**
 * Platform events across processes on Redis pub/sub: job progress (for graphql-ws subscribers on
 * any API process) and voice-index invalidations. Delivery is at-most-once (pub/sub keeps nothing):
 * job rows and the periodic index check repair what a lost message leaves behind.
 */
export const CHANNELS = {
  jobProgress: 'platform:job-progress',
  voiceIndex: 'platform:voice-index',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

export class RedisEvents {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  /** Identifies this process's own messages (a process may skip what it already applied). */
  readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  constructor(redisUrl: string, log: (line: string) => void) {
    this.publisher = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
    // ioredis reconnects by itself (and re-subscribes); an outage is logged once per error kind.
    let lastError = '';
    const onError = (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      log(`redis: ${error.message}`);
    };
    this.publisher.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('ready', () => (lastError = ''));
    this.subscriber.on('message', (channel: string, raw: string) => {
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        return;
      }
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  /** Resolves once subscribed (a message published after that is heard). */
  async subscribe<T>(channel: Channel, handler: (message: T) => void): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(handler as (message: unknown) => void);
  }

  publish(channel: Channel, message: unknown): void {
    this.publisher.publish(channel, JSON.stringify(message)).catch(() => undefined); // logged by the error handler
  }

  /** Calls fn after every reconnection (messages may have been lost meanwhile). */
  onReconnect(fn: () => void): void {
    let first = true;
    this.subscriber.on('ready', () => {
      if (first) first = false;
      else fn();
    });
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
