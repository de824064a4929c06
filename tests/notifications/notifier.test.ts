import { describe, expect, it } from 'vitest';
import { eventTypes } from '../../lib/events/catalog/index.js';
import { lifecycleEventTypes } from '../../lib/notifications/lifecycle-events.js';
import { hintedEventTypes } from '../../lib/notifications/notifier.js';

describe('the notifier hint subscription', () => {
  it('covers every event type but the lifecycle events Herald stores already processed', () => {
    expect(lifecycleEventTypes).toEqual(['notification.sent', 'notification.failed', 'notification.dead_lettered']);
    expect(hintedEventTypes).toContain('transaction.completed');
    expect(hintedEventTypes).toContain('service.balance.sync.completed');
    expect(new Set([...hintedEventTypes, ...lifecycleEventTypes])).toEqual(new Set(eventTypes));
    expect(hintedEventTypes.some((t) => t.startsWith('notification.'))).toBe(false);
  });
});
