import type { DemoLogin } from './demo.seeder';

const HEADERS = ['EMAIL', 'PASSWORD', 'ROLE', 'EVENT'] as const;

function eventLabel(login: DemoLogin): string {
  if (login.event) return `${login.event.name} (${login.event.status})`;
  return login.role === 'staff' ? '- (platform staff: sees every event)' : '-';
}

/** A plain-text table (one line per login and event), readable in a terminal and greppable. */
export function formatLoginsTable(logins: readonly DemoLogin[]): string {
  const rows = logins.map((l) => [l.email, l.password, l.role, eventLabel(l)]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
