export const deliveryStatuses = [
  'PENDING', 'SENDING', 'SENT', 'DELIVERED', 'RETRYING', 'DEFERRED', 'SKIPPED', 'FAILED', 'DEAD_LETTERED',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** Where a delivery may legitimately stop (SPEC §6): nothing further happens without an operator. */
export const terminalStatuses: readonly DeliveryStatus[] = ['SENT', 'DELIVERED', 'SKIPPED', 'FAILED', 'DEAD_LETTERED'];
export const inFlightStatuses: readonly DeliveryStatus[] = ['PENDING', 'SENDING', 'RETRYING', 'DEFERRED'];
export const successStatuses: readonly DeliveryStatus[] = ['SENT', 'DELIVERED'];
