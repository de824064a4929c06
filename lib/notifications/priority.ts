export const priorities = ['critical', 'high', 'normal', 'low'] as const;
/** `critical` bypasses quiet hours and frequency caps: the customer must know now. */
export type Priority = (typeof priorities)[number];
