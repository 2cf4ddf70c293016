export const EVENT_LEVELS = { AUDIT: 0, DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
export type EventLevelName = keyof typeof EVENT_LEVELS;

export function levelName(level: number): EventLevelName {
  const found = (Object.keys(EVENT_LEVELS) as EventLevelName[]).find((k) => EVENT_LEVELS[k] === level);
  return found ?? 'INFO';
}
