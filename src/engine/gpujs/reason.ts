// One line of an error, for the reason strings that probes and fallbacks show a user.
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]!.trim();
}
