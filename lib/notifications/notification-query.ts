import { decodeCursor, encodeCursor } from '../api/cursor.js';
import type { Pool } from '../db/pool.js';
import { loadNotificationTrees, type NotificationView, type Page } from '../events/event-query.js';

export interface NotificationQuery {
  userId?: string;
  /** A delivery status: notifications with at least one delivery in it. */
  status?: string;
  channel?: string;
  eventType?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id); each item carries its deliveries and attempts. */
export async function queryNotifications(pool: Pool, query: NotificationQuery): Promise<Page<NotificationView>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.userId) where.push(`n.user_id = ${bind(query.userId)}`);
  if (query.eventType) where.push(`n.event_type = ${bind(query.eventType)}`);
  if (query.from) where.push(`n.created_at >= ${bind(query.from)}`);
  if (query.to) where.push(`n.created_at < ${bind(query.to)}`);
  if (query.status || query.channel) {
    const conditions = ['d.notification_id = n.id'];
    if (query.status) conditions.push(`d.status = ${bind(query.status)}`);
    if (query.channel) conditions.push(`d.channel = ${bind(query.channel)}`);
    where.push(`EXISTS (SELECT 1 FROM notification_deliveries d WHERE ${conditions.join(' AND ')})`);
  }
  if (query.cursor) {
    const { at, id } = decodeCursor(query.cursor);
    where.push(`(n.created_at, n.id) < (${bind(at)}::timestamptz, ${bind(id)}::uuid)`);
  }
  const { rows } = await pool.query<{ id: string; created_at: Date }>(
    `SELECT n.id, n.created_at FROM notifications n
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY n.created_at DESC, n.id DESC LIMIT ${bind(query.limit + 1)}`,
    params,
  );
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const trees = new Map((await loadNotificationTrees(pool, { notificationIds: page.map((r) => r.id) })).map((n) => [n.id, n]));
  const last = page[page.length - 1];
  return {
    items: page.map((r) => trees.get(r.id)).filter((n): n is NotificationView => Boolean(n)),
    nextCursor: more && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

export async function loadNotification(pool: Pool, id: string): Promise<NotificationView | null> {
  const [tree] = await loadNotificationTrees(pool, { notificationIds: [id] });
  return tree ?? null;
}
